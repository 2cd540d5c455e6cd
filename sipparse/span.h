#pragma once
// Spans: offset/length pairs into the buffer a message was parsed from.
// Offsets (not pointers) keep every view type trivially copyable and
// position-independent, so a view can travel next to its mbuf or be copied
// with the buffer. A SIP message is at most 65535 bytes (UDP datagram limit,
// and our stream limit), so 16 bits suffice.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipedge::sip {

/// Offset/length into the parsed buffer. `len == 0` means absent or empty;
/// use the owning struct's presence flag where the difference matters.
struct Span {
    uint16_t off = 0;
    uint16_t len = 0;

    constexpr bool empty() const noexcept { return len == 0; }
    constexpr uint32_t end() const noexcept { return uint32_t(off) + len; }
    /// The bytes of this span inside <base> (the buffer given to the parser).
    std::string_view str(const char* base) const noexcept { return {base + off, len}; }
};

static_assert(sizeof(Span) == 4);

/// Span from two offsets; callers guarantee b >= a and both <= 65535.
constexpr Span make_span(size_t a, size_t b) noexcept {
    return Span{uint16_t(a), uint16_t(b - a)};
}

}  // namespace sipedge::sip
