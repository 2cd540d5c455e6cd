#pragma once
// The load generator's SIP text: the requests its callers send (INVITE, ACK,
// BYE), the responses its carrier UAS sends, and a small line scanner that
// finds what either side needs in what sipedge relays. Its own code, not
// sipparse: the generator must stay cheaper per message than the edge it
// drives, and it only ever reads messages it wrote (as rewritten by sipedge).
// No DPDK, no allocation: builders write into the caller's buffer.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipedge::bench {

/// Offset/length into a message.
struct Span {
    uint16_t off = 0;
    uint16_t len = 0;
    std::string_view str(const char* d) const noexcept { return {d + off, len}; }
};

enum class SipMethod : uint8_t { other, invite, ack, bye, options, register_ };

/// What the generator reads from one message. Header lines are kept whole
/// (name through value, no CRLF) so a response can copy them verbatim.
struct SipScan {
    static constexpr size_t max_via = 8;
    static constexpr size_t max_rr = 4;
    bool request = false;
    SipMethod method = SipMethod::other;  // request method, or CSeq method of a response
    uint16_t status = 0;                  // responses
    Span call_id;                         // value
    Span to_tag;                          // value of ;tag= in To (len 0: none)
    Span rr_value;                        // first Record-Route value
    Span via_line[max_via];
    uint8_t nvia = 0;
    Span rr_line[max_rr];
    uint8_t nrr = 0;
    Span from_line, to_line, call_id_line, cseq_line;
};

/// Scans d[0, n): start line and headers up to the blank line (CRLF or LF
/// line ends, compact forms v/f/t/i). Rejects (false) a message without a
/// start line, a header line without ':', more than max_via Via or max_rr
/// Record-Route lines, or a missing Call-ID/CSeq/From/To/Via.
bool scan(const char* d, size_t n, SipScan& s) noexcept;

/// Our identity of a call: the generator's call slot and its sequence number.
struct CallRef {
    uint32_t slot = 0;
    uint32_t seq = 0;
};
/// Parses a Call-ID we wrote ("lg<slot>.<seq>@loadgen"). False otherwise.
bool parse_call_id(std::string_view v, CallRef& c) noexcept;

/// IPv4 (host order) and UDP port.
struct Addr {
    uint32_t ip = 0;
    uint16_t port = 5060;
};

/// Addresses of one call: the caller that places it, the edge it goes
/// through, the carrier UAS it ends at.
struct CallAddrs {
    Addr caller, edge, uas;
};

/// INVITE from <a.caller> to the edge, with an SDP offer (~680 bytes).
/// Returns the length, 0 when <cap> is too small.
size_t build_invite(char* out, size_t cap, const CallAddrs& a, CallRef c) noexcept;

/// ACK (<ack>) or BYE (!<ack>) inside the dialog set up by a 2xx: Request-URI
/// is the UAS's Contact, Route is <route> (the Record-Route value the 2xx
/// carried), To carries <to_tag>.
size_t build_in_dialog(char* out, size_t cap, const CallAddrs& a, CallRef c, bool ack,
                       std::string_view route, std::string_view to_tag) noexcept;

/// ACK for a non-2xx final response to the INVITE (RFC 3261 §17.1.1.3): same
/// branch and Request-URI as the INVITE, To from the response.
size_t build_ack_non2xx(char* out, size_t cap, const CallAddrs& a, CallRef c,
                        std::string_view to_tag) noexcept;

/// The UAS's response <status> <reason> to the request <req> scanned as <s>:
/// Via, Record-Route, From, Call-ID and CSeq copied, To tagged "u<seq>" when
/// it has no tag, Contact of <uas>; an SDP answer when <sdp>.
size_t build_response(char* out, size_t cap, const char* req, const SipScan& s,
                      uint16_t status, std::string_view reason, Addr uas, uint32_t seq,
                      bool sdp) noexcept;

}  // namespace sipedge::bench
