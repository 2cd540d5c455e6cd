#include "stream/framer.h"

#include <cstring>

namespace sipedge::stream {

namespace {

constexpr uint32_t max_size = uint32_t(sip::max_message_size);

// Offset just past the blank line that ends the headers in b[from, len)
// ("\n\r\n" or "\n\n": sipparse accepts bare LF line ends), or 0 when none.
// <from> may sit just past, or inside, the blank line ("\n\r\n" is 3 bytes);
// backing up 3 bytes finds it again.
uint32_t find_headers_end(const char* b, uint32_t len, uint32_t from) noexcept {
    uint32_t i = from > 3 ? from - 3 : 0;
    while (i < len) {
        const void* lf = std::memchr(b + i, '\n', len - i);
        if (lf == nullptr) return 0;
        i = uint32_t(static_cast<const char*>(lf) - b) + 1;
        if (i < len && b[i] == '\n') return i + 1;
        if (i + 1 < len && b[i] == '\r' && b[i + 1] == '\n') return i + 2;
    }
    return 0;
}

// The Content-Length value at <off> when it is all digits (LWS around it
// allowed), saturated at 2^32-1; -1 when it is not a number.
int64_t content_length_at(const char* b, uint32_t len, uint32_t off) noexcept {
    uint32_t i = off;
    while (i < len && (b[i] == ' ' || b[i] == '\t')) i++;
    if (i >= len || b[i] < '0' || b[i] > '9') return -1;
    uint64_t v = 0;
    for (; i < len && b[i] >= '0' && b[i] <= '9'; i++)
        if ((v = v * 10 + uint64_t(b[i] - '0')) > 0xffffffffu) v = 0xffffffffu;
    while (i < len && (b[i] == ' ' || b[i] == '\t')) i++;
    if (i < len && b[i] != '\r' && b[i] != '\n') return -1;
    return int64_t(v);
}

}  // namespace

const char* frame_kind_name(FrameKind k) noexcept {
    switch (k) {
    case FrameKind::need_more: return "need-more";
    case FrameKind::message: return "message";
    case FrameKind::ping: return "ping";
    case FrameKind::pong: return "pong";
    case FrameKind::skip: return "skip";
    case FrameKind::too_large: return "too-large";
    case FrameKind::invalid: return "invalid";
    }
    return "?";
}

Frame next_frame(const char* b, size_t len_in, bool pong_expected, uint32_t scan_from,
                 sip::Message& m) noexcept {
    Frame f;
    if (len_in == 0) return f;
    // A message cannot extend past max_size: look no further than that (+1,
    // so that "more than max_size bytes without an end" is visible).
    const uint32_t len = uint32_t(len_in > max_size + 1 ? max_size + 1 : len_in);

    // RFC 5626 §4.4.1 keep-alives, only ever between messages.
    if (b[0] == '\r' || b[0] == '\n') {
        if (len >= 4 && std::memcmp(b, "\r\n\r\n", 4) == 0) {
            f.kind = FrameKind::ping;
            f.len = 4;
            return f;
        }
        if (len >= 2 && b[0] == '\r' && b[1] == '\n') {
            // "\r\n" then a start line: a pong. "\r\n" alone or "\r\n\r" may be
            // the first part of a ping, unless we are waiting for a pong.
            if ((len == 2 && pong_expected) || (len >= 3 && b[2] != '\r')) {
                f.kind = FrameKind::pong;
                f.len = 2;
            }
            return f;
        }
        if (b[0] == '\r' && len == 1) return f;
        f.kind = FrameKind::skip;  // a bare LF, or CR not followed by LF
        f.len = 1;
        return f;
    }

    const uint32_t in_view = len > max_size ? max_size : len;
    const uint32_t end = find_headers_end(b, in_view, scan_from);
    if (end == 0) {
        if (len > max_size) {
            f.kind = FrameKind::too_large;  // no end of headers in 65535 bytes
            return f;
        }
        f.scanned = len;
        return f;
    }

    const sip::ParseStatus st = sip::parse(b, in_view, m, sip::Framing::stream);
    if (st == sip::ParseStatus::ok) {
        f.kind = FrameKind::message;
        f.len = m.size;
        return f;
    }
    if (st == sip::ParseStatus::incomplete) {
        if (m.need > max_size) {
            f.kind = FrameKind::too_large;
            f.need = m.need;
        } else {
            f.need = m.need;
            f.scanned = end;  // the headers are complete; only the body is missing
        }
        return f;
    }
    if (m.error == sip::ParseError::too_large) {
        f.kind = FrameKind::too_large;
        return f;
    }
    // sipparse refuses a Content-Length over 65535 as malformed; over a
    // stream that is a message too large for us, and says so.
    if (m.error == sip::ParseError::bad_content_length) {
        const int64_t cl = content_length_at(b, in_view, m.error_off);
        if (cl > int64_t(max_size)) {
            f.kind = FrameKind::too_large;
            f.need = uint32_t(end + cl > 0xffffffffu ? 0xffffffffu : end + cl);
            return f;
        }
    }
    f.kind = FrameKind::invalid;
    f.error = m.error;
    f.error_header = m.error_header;
    return f;
}

std::string frame_error_text(const Frame& f) {
    if (f.kind == FrameKind::too_large) {
        if (f.need != 0)
            return "message of " + std::to_string(f.need) + " bytes exceeds the " +
                   std::to_string(max_size) + "-byte limit";
        return "message headers exceed the " + std::to_string(max_size) + "-byte limit";
    }
    if (f.kind != FrameKind::invalid) return "";
    if (f.error == sip::ParseError::missing_header && f.error_header == sip::HeaderId::content_length)
        return "missing Content-Length (RFC 3261 §18.3: required on stream transports)";
    std::string s = "unframeable message: ";
    s += sip::error_reason(f.error);
    if (f.error_header != sip::HeaderId::other) {
        s += " (";
        s += sip::header_name(f.error_header);
        s += ")";
    }
    return s;
}

}  // namespace sipedge::stream
