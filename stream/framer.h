#pragma once
// SIP over a byte stream (RFC 3261 §18.3): cuts whole messages out of what a
// TCP or TLS connection delivers, with sipparse's stream framing
// (sip::parse(..., Framing::stream): Content-Length required, bytes past the
// message belong to the next one), and recognises RFC 5626 §4.4.1 keep-alives
// between messages: a double CRLF "ping" and a single CRLF "pong".
//
// next_frame() is the pure step (what comes first in a buffer that starts at
// a message boundary); Framer keeps one connection's partial message. Messages
// over sip::max_message_size (65535) are refused (too_large) rather than
// buffered: the caller closes the connection, since a stream cannot be
// re-synchronised past a message it will not read.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sipparse/message.h"

namespace sipedge::stream {

enum class FrameKind : uint8_t {
    need_more,  // nothing complete yet
    message,    // one whole SIP message of `len` bytes
    ping,       // "\r\n\r\n" (RFC 5626 §4.4.1): answer with a pong
    pong,       // "\r\n": the answer to our ping
    skip,       // one stray CR or LF between messages (lenient, RFC 3261 §7.5)
    too_large,  // the message at the front exceeds 65535 bytes
    invalid,    // the bytes at the front cannot be framed
};
const char* frame_kind_name(FrameKind k) noexcept;

struct Frame {
    FrameKind kind = FrameKind::need_more;
    uint32_t len = 0;      // message/ping/pong/skip: bytes the frame occupies
    uint32_t need = 0;     // need_more: total bytes the message needs (0 = unknown);
                           // too_large: its size when known
    uint32_t scanned = 0;  // need_more: bytes searched for the end of headers (resume point)
    sip::ParseError error = sip::ParseError::none;  // invalid: why
    sip::HeaderId error_header = sip::HeaderId::other;
};

/// The first frame of buf[0, len), which starts at a message boundary.
/// <pong_expected>: we have a ping outstanding, so a lone "\r\n" at the end of
/// the buffer is a pong now rather than the first half of a ping.
/// <scan_from>: bytes already known to hold no end of headers (a previous
/// need_more's `scanned`), so a message trickling in is not rescanned.
/// <scratch> is the parser's output space (~1.5 KB). Never reads past len.
Frame next_frame(const char* buf, size_t len, bool pong_expected, uint32_t scan_from,
                 sip::Message& scratch) noexcept;

/// A clear sentence for a too_large or invalid frame, e.g. "message of 70231
/// bytes exceeds the 65535-byte limit" or "missing Content-Length (RFC 3261
/// §18.3: required on stream transports)".
std::string frame_error_text(const Frame& f);

/// One connection's framing state. Bytes are parsed where they lie when no
/// partial message is pending (no copy); only the tail of an incomplete
/// message is kept, so an idle connection holds no buffer.
class Framer {
public:
    enum class Status : uint8_t { ok, stopped, too_large, invalid };

    /// Feeds <n> bytes at <p> and calls `on(const Frame&, const char* bytes)`
    /// for each complete message, ping, pong; `on` returns false to stop (the
    /// rest is kept for resume()). Returns ok when everything was consumed or
    /// kept as a partial message, stopped when `on` refused, and too_large /
    /// invalid with error() set (the connection cannot continue).
    /// <scratch> is the parser's output space, shared by every connection of
    /// a thread (~1.5 KB; a Framer itself is small, for idle connections).
    template <class On>
    Status feed(const char* p, size_t n, sip::Message& scratch, On&& on);
    /// Runs the frames kept after a stop (same contract as feed with no new bytes).
    template <class On>
    Status resume(sip::Message& scratch, On&& on) {
        return feed(nullptr, 0, scratch, on);
    }

    void set_pong_expected(bool v) noexcept { pong_expected_ = v; }
    bool pong_expected() const noexcept { return pong_expected_; }
    /// Bytes held for a partial message (or kept after a stop).
    size_t buffered() const noexcept { return buf_.size() - start_; }
    /// Total size of the pending message when known, else 0.
    uint32_t need() const noexcept { return need_; }
    const Frame& error() const noexcept { return error_; }
    /// Drops held bytes and their memory.
    void clear() noexcept {
        std::vector<char>().swap(buf_);
        start_ = scan_ = need_ = 0;
    }

private:
    template <class On>
    Status run(const char* p, size_t n, size_t& used, sip::Message& scratch, On& on);

    std::vector<char> buf_;
    size_t start_ = 0;  // first unconsumed byte of buf_
    uint32_t scan_ = 0;
    uint32_t need_ = 0;
    bool pong_expected_ = false;
    Frame error_;
};

// ---- inline template members --------------------------------------------------

template <class On>
Framer::Status Framer::run(const char* p, size_t n, size_t& used, sip::Message& scratch, On& on) {
    used = 0;
    while (used < n) {
        const Frame f = next_frame(p + used, n - used, pong_expected_, scan_, scratch);
        switch (f.kind) {
        case FrameKind::need_more:
            scan_ = f.scanned;
            need_ = f.need;
            return Status::ok;
        case FrameKind::too_large:
            error_ = f;
            return Status::too_large;
        case FrameKind::invalid:
            error_ = f;
            return Status::invalid;
        case FrameKind::skip:
            break;
        case FrameKind::message:
        case FrameKind::ping:
        case FrameKind::pong:
            if (!on(f, p + used)) return Status::stopped;
            break;
        }
        used += f.len;
        scan_ = need_ = 0;
    }
    return Status::ok;
}

template <class On>
Framer::Status Framer::feed(const char* p, size_t n, sip::Message& scratch, On&& on) {
    if (buffered() == 0) {
        // Fast path: frames straight out of the caller's bytes.
        buf_.clear();
        start_ = 0;
        size_t used = 0;
        const Status st = run(p, n, used, scratch, on);
        if (st == Status::ok || st == Status::stopped) buf_.assign(p + used, p + n);
        return st;
    }
    // A message is pending: append, and parse again only once enough is here.
    if (n) buf_.insert(buf_.end(), p, p + n);
    if (need_ != 0 && buffered() < need_) return Status::ok;
    size_t used = 0;
    const Status st = run(buf_.data() + start_, buffered(), used, scratch, on);
    start_ += used;
    if (start_ == buf_.size()) {
        start_ = 0;
        // Idle connections hold no buffer (memory per idle connection, docs/stream.md).
        if (buf_.capacity() > 8192) std::vector<char>().swap(buf_);
        else buf_.clear();
    } else if (start_ > buf_.size() / 2) {
        buf_.erase(buf_.begin(), buf_.begin() + long(start_));
        start_ = 0;
    }
    return st;
}

}  // namespace sipedge::stream
