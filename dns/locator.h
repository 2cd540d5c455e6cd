#pragma once
// RFC 3263 §4 server location for one host, as a pure state machine: it says
// which questions it needs, is fed their answers (from the cache or the
// network, in any order), and builds the ranked ServerList. No c-ares, no
// clock, no randomness of its own (the Rng is injected), so every ordering
// and fallback rule is unit-tested on synthetic answers.
//
//   literal IP            → one target, no DNS (RFC 3263 §4.2)
//   port given            → A/AAAA of the host only (seed P: "will not send an SRV query")
//   no port, naptr        → NAPTR; usable services (flags "s", SIP+D2U / SIP+D2T /
//                           SIPS+D2T, allowed transport) ranked by order then
//                           preference (RFC 3403 §4.1) → SRV of each replacement
//   no NAPTR usable       → SRV _sip._udp / _sip._tcp / _sips._tcp in the trunk's
//                           transport preference (RFC 3263 §4.1)
//   every SRV failed      → A/AAAA of the host on 5060 (5061 for TLS)
//                           (seed P: "try the same address again as an A record and assume port 5060")
//   SRV targets           → RFC 2782 order, then A/AAAA per target, A first

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dns/records.h"
#include "dns/srv_order.h"
#include "dns/types.h"

namespace sipedge::dns {

/// Which address families to look up for each target.
enum class Families : uint8_t { v4, v6, both };

/// What to locate for one trunk server entry.
struct LocateRequest {
    std::string host;  // FQDN or IP literal
    /// 0 = none: NAPTR/SRV (seed P port 0 or empty; the control layer maps
    /// AudioCodes' 65535 to 0). Anything else: A/AAAA only on this port.
    uint16_t port = 0;
    /// Allowed transports in the trunk's order of preference (seed P/AC
    /// transport knob: dnsNaptr = {udp, tcp, tls} + naptr; UDPOnly = {udp};
    /// TCPpreferred = {tcp, udp}; TLS = {tls}). Must not be empty.
    std::vector<Transport> transports{Transport::udp, Transport::tcp, Transport::tls};
    bool naptr = true;  // ask NAPTR first (dnsNaptr)
    Families families = Families::both;
    /// Addresses kept per service record (seed P: "lists of up to four addresses").
    uint16_t max_addresses = 4;
};

/// Checks <req>: non-empty host, at least one transport, max_addresses 1..256.
bool valid_request(const LocateRequest& req, std::string* why = nullptr);

/// One lookup's state. Create, then loop: take_questions() → answer each →
/// until done(); then result(). Accepts answers only for questions it asked
/// and not yet answered; ignores the rest.
class Locator {
public:
    Locator(LocateRequest req, Rng rng);

    /// Questions not yet handed out. Each question is handed out once.
    std::vector<Question> take_questions();

    /// Feeds the answer in use for <q> (network, restored or static), which
    /// expires at <expires_at>, with source <src>.
    void on_answer(const Question& q, const Answer& a, Source src, Millis expires_at);

    bool done() const { return phase_ == Phase::done; }
    /// The ranked list. Meaningful once done().
    ServerList result() const;

private:
    enum class Phase : uint8_t { naptr, srv, addr, done };
    struct Service {
        uint16_t order = 0, preference = 0;
        Transport transport = Transport::udp;
        std::string srv_name;          // empty: A/AAAA of host_ on port_
        uint16_t port = 0;             // when srv_name is empty
        std::vector<SrvRr> targets;    // RFC 2782 order, trimmed
    };
    struct Addrs {
        std::vector<AddrRr> v4, v6;
    };

    void ask(Question q);
    void start_srv_for_transports();
    void start_host_addresses(Transport t, uint16_t port);
    void ask_addresses(const std::string& host);
    void note(const Question& q, const Answer& a, Source src, Millis expires_at);
    void advance();

    LocateRequest req_;
    std::string host_;  // normalized
    Rng rng_;
    Phase phase_ = Phase::naptr;
    std::vector<Question> to_ask_;
    std::set<Question> asked_, pending_;
    std::vector<Service> services_;
    std::map<std::string, Addrs> addrs_;
    bool any_srv_ = false;
    Millis fail_expires_at_ = never_ms;  // earliest failure expiry: the list's expiry when empty
    // What result() reports.
    ServerList out_;
    Source literal_source_ = Source::none;
};

}  // namespace sipedge::dns
