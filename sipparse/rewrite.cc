// Proxy rewriting (RFC 3261 §16.6): an edit list applied in one copy pass.

#include "sipparse/rewrite.h"

#include <cstdint>
#include <cstring>

#include "sipparse/headers.h"

namespace sipedge::sip {

namespace {
constexpr std::string_view crlf = "\r\n";
}  // namespace

bool Rewriter::add(uint32_t off, uint32_t del, std::string_view a, std::string_view b,
                   std::string_view c, std::string_view d) noexcept {
    if (n_ == max_edits) {
        failed_ = true;
        return false;
    }
    edits_[n_] = Edit{off, del, {a, b, c, d}, 0, false, 0};
    n_++;
    return true;
}

bool Rewriter::add_num(uint32_t off, uint32_t del, std::string_view a, uint32_t num,
                       std::string_view c) noexcept {
    if (!add(off, del, a, {}, c)) return false;
    edits_[n_ - 1].num = num;
    edits_[n_ - 1].has_num = true;
    return true;
}

// Index after the '\n' that ends header <h>'s last (possibly folded) line.
uint32_t Rewriter::line_end(const Header& h) const noexcept {
    const void* lf = std::memchr(in_ + h.value.end(), '\n', msg_.body.off - h.value.end());
    return lf ? uint32_t(static_cast<const char*>(lf) - in_) + 1 : msg_.body.off;
}

// Start of the empty line that ends the header section.
uint32_t Rewriter::headers_end() const noexcept {
    const uint32_t b = msg_.body.off;
    return (b >= 2 && in_[b - 2] == '\r') ? b - 2 : b - 1;
}

bool Rewriter::prepend_via(std::string_view value) noexcept {
    const Header* h = msg_.find(HeaderId::via);
    const uint32_t at = h ? h->name.off : headers_end();
    return add(at, 0, "Via: ", value, crlf);
}

bool Rewriter::remove_first_value(HeaderId id) noexcept {
    const Header* h = msg_.find(id);
    if (!h) return false;
    CommaList list(in_, h->value);
    Span first, second;
    if (!list.next(first)) return false;
    if (!list.next(second)) return add(h->name.off, line_end(*h) - h->name.off, {});
    return add(first.off, second.off - first.off, {});
}

bool Rewriter::remove_top_via() noexcept {
    // parse() took the top via-parm as the first Via header's whole value
    // when that header has one (nearly always): the line goes without
    // scanning the value again for a comma.
    const Header* h = msg_.find(HeaderId::via);
    if (h && msg_.top_via.all.off == h->value.off && msg_.top_via.all.len == h->value.len)
        return add(h->name.off, line_end(*h) - h->name.off, {});
    return remove_first_value(HeaderId::via);
}

bool Rewriter::remove_top_route() noexcept { return remove_first_value(HeaderId::route); }

bool Rewriter::remove_top_routes(unsigned k) noexcept {
    if (k <= 1) return k == 0 || remove_top_route();
    for (const Header* h = msg_.find(HeaderId::route); h && k; h = msg_.next(h)) {
        CommaList list(in_, h->value);
        Span v, first{};
        unsigned n = 0;
        while (n < k && list.next(v)) {
            if (n++ == 0) first = v;
        }
        Span after;
        if (n == k && list.next(after)) {  // the header keeps values: cut up to the next one
            return add(first.off, after.off - first.off, {});
        }
        if (n == 0) continue;
        if (!add(h->name.off, line_end(*h) - h->name.off, {})) return false;  // the whole line
        k -= n;
    }
    return k == 0;
}

bool Rewriter::remove_all(HeaderId id) noexcept {
    const Header* h = msg_.find(id);
    if (!h) return false;
    int16_t mine = -1;  // the edit this call recorded last
    for (; h; h = msg_.next(h)) {
        const uint32_t at = h->name.off, end = line_end(*h);
        if (mine >= 0 && edits_[mine].off + edits_[mine].del == at) {
            edits_[mine].del = end - edits_[mine].off;
            continue;
        }
        if (!add(at, end - at, {})) return false;
        mine = int16_t(n_ - 1);
    }
    return true;
}

bool Rewriter::insert_before_first(HeaderId id, std::string_view lines) noexcept {
    const Header* h = msg_.find(id);
    return add(h ? h->name.off : headers_end(), 0, lines);
}

bool Rewriter::insert_after_last(HeaderId id, std::string_view lines) noexcept {
    const Header* last = nullptr;
    for (const Header* h = msg_.find(id); h; h = msg_.next(h)) last = h;
    return last && add(line_end(*last), 0, lines);
}

bool Rewriter::replace(Span s, std::string_view with) noexcept {
    if (s.end() > msg_.body.off) return false;
    return add(s.off, s.len, with);
}

bool Rewriter::cut(uint32_t off, uint32_t end) noexcept {
    if (end < off || end > msg_.body.off) return false;
    return add(off, end - off, {});
}

bool Rewriter::set_request_uri(std::string_view uri) noexcept {
    if (!msg_.is_request || uri.empty()) return false;
    return add(msg_.request_uri.off, msg_.request_uri.len, uri);
}

bool Rewriter::decrement_max_forwards(uint32_t dflt) noexcept {
    if (!msg_.has_max_forwards) return add_num(headers_end(), 0, "Max-Forwards: ", dflt, crlf);
    if (msg_.max_forwards == 0) return false;  // RFC 3261 §16.3: answer 483
    const Span v = msg_.find(HeaderId::max_forwards)->value;
    return add_num(v.off, v.len, {}, msg_.max_forwards - 1, {});
}

bool Rewriter::add_record_route(std::string_view name_addr) noexcept {
    // RFC 3261 §16.6 step 4: our Record-Route goes above the existing ones.
    const Header* h = msg_.find(HeaderId::record_route);
    if (!h) h = msg_.find(HeaderId::via);
    const uint32_t at = h ? h->name.off : headers_end();
    return add(at, 0, "Record-Route: ", name_addr, crlf);
}

bool Rewriter::fix_content_length() noexcept {
    if (cl_fixed_) return true;
    cl_fixed_ = true;
    if (const Header* h = msg_.find(HeaderId::content_length))
        return add_num(h->value.off, h->value.len, {}, msg_.body.len, {});
    return add_num(headers_end(), 0, "Content-Length: ", msg_.body.len, crlf);
}

bool Rewriter::add_header(std::string_view name, std::string_view value) noexcept {
    return add(headers_end(), 0, name, ": ", value, crlf);
}

size_t Rewriter::finish(char* out, size_t cap) noexcept {
    if (!msg_.has_content_length) fix_content_length();
    if (failed_) return 0;
    // Insertion sort of the edits' indexes by offset, stable (equal offsets
    // keep their recording order: an index is inserted after every earlier
    // one at its offset): at most max_edits entries, and the edits themselves
    // (80 bytes each) stay where they are.
    uint8_t order[max_edits];
    for (uint16_t i = 0; i < n_; i++) {
        uint16_t j = i;
        while (j > 0 && edits_[order[j - 1]].off > edits_[i].off) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = uint8_t(i);
    }
    size_t w = 0;
    auto put = [&](const char* p, size_t n) {
        if (n == 0) return true;  // empty parts may carry a null pointer
        if (n > cap - w) return false;
        std::memcpy(out + w, p, n);
        w += n;
        return true;
    };
    uint32_t cur = 0;
    for (uint16_t k = 0; k < n_; k++) {
        Edit& e = edits_[order[k]];
        if (e.off < cur) return 0;  // overlapping edits
        if (!put(in_ + cur, e.off - cur) || !put(e.part[0].data(), e.part[0].size())) return 0;
        e.out_b = uint32_t(w);
        if (!put(e.part[1].data(), e.part[1].size())) return 0;
        if (e.has_num) {
            char digits[10];
            size_t nd = 0;
            uint32_t v = e.num;
            do {
                digits[sizeof digits - ++nd] = char('0' + v % 10);
                v /= 10;
            } while (v);
            if (!put(digits + sizeof digits - nd, nd)) return 0;
        }
        if (!put(e.part[2].data(), e.part[2].size()) || !put(e.part[3].data(), e.part[3].size())) return 0;
        cur = e.off + e.del;
    }
    // The body ends at Content-Length: bytes past it in a datagram are not
    // part of the message (RFC 3261 §18.3) and are not forwarded.
    if (!put(in_ + cur, msg_.body.end() - cur)) return 0;
    return w;
}

size_t Rewriter::placed(const char* p) const noexcept {
    for (uint16_t i = 0; i < n_; i++) {
        // As integers: <p> and the part may belong to different objects.
        const std::string_view b = edits_[i].part[1];
        const uintptr_t at = reinterpret_cast<uintptr_t>(p), b0 = reinterpret_cast<uintptr_t>(b.data());
        if (at - b0 < b.size()) return edits_[i].out_b + size_t(at - b0);
    }
    return npos;
}

}  // namespace sipedge::sip
