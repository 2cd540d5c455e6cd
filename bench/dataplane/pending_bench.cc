// bench/dataplane: memory per pending INVITE transaction (issue 15). One
// worker's proxy core (dataplane/proxy.h, no DPDK) sized for <slots>
// transaction slots is fed <n> INVITEs from the access side, each forwarded to
// a carrier that never answers; time does not move, so nothing retransmits or
// expires: all <n> are pending at the end. Printed, as JSON:
//   - the process's resident set (VmRSS) before init(), after init(), and
//     after the <n> INVITEs, and the growth per pending INVITE;
//   - what the proxy holds for them: active slots (a server and a client
//     transaction each), retained messages and their pool classes;
//   - reserved bytes per slot (init's RSS growth / slots): the proxy
//     allocates every pool at start, so this is what capacity costs.
// With <resident> 1 the indexes are made resident right after init()
// (Proxy::prefault_indexes()): the tombstone index, which no pending INVITE
// writes, as a worker that has completed calls for a while holds it.
// Usage: dp_pending_bench [n=1000000] [slots=2*n+n/4] [sdp=1] [resident=0]
// Results: bench/RESULTS-dataplane.md "Memory per pending INVITE".

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "bench/dataplane/one_trunk.h"
#include "dataplane/sink_proxy.h"

namespace sipedge::dp {
namespace {

long rss_kib() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmRSS:", 6) == 0) v = std::strtol(line + 6, nullptr, 10);
    std::fclose(f);
    return v;
}

struct Discard final : PacketSink {
    uint64_t sent = 0, bytes = 0;
    void send_sip(Endpoint, const char*, size_t n, const SendNote*) noexcept override {
        sent++;
        bytes += n;
    }
};

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d;
}

// An INVITE as a PBX sends it: 13 headers and, with <sdp>, an audio offer
// (sipp's uac scenario is of this size). <i> makes Call-ID, tag and branch unique.
std::string invite(uint64_t i, bool sdp) {
    char id[32];
    std::snprintf(id, sizeof id, "%016llx", (unsigned long long)i);
    const std::string body =
        sdp ? "v=0\r\no=user1 53655765 2353687637 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
              "t=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
              "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
            : "";
    std::string m = "INVITE sip:+4930123456@192.0.2.10:5060 SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" + std::string(id) + ";rport\r\n";
    m += "Max-Forwards: 70\r\n";
    m += "From: \"Office 100\" <sip:100@192.0.2.1>;tag=" + std::string(id, 10) + "\r\n";
    m += "To: <sip:+4930123456@192.0.2.10>\r\n";
    m += "Call-ID: " + std::string(id) + "@192.0.2.1\r\n";
    m += "CSeq: 1 INVITE\r\n";
    m += "Contact: <sip:100@192.0.2.1:5060>\r\n";
    m += "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY\r\n";
    m += "Supported: replaces, timer\r\n";
    m += "User-Agent: PBX/1.0\r\n";
    if (sdp) m += "Content-Type: application/sdp\r\n";
    m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return m;
}

int run(uint64_t n, uint32_t slots, bool sdp, bool resident) {
    const Endpoint caller{ip4(192, 0, 2, 1), 5060}, edge{ip4(192, 0, 2, 10), 5060},
        carrier{ip4(198, 51, 100, 21), 5060};
    const OneTrunk one(carrier, caller);  // the routing snapshot control would publish

    const long rss0 = rss_kib();
    ProxyConfig cfg;
    cfg.self = edge;
    cfg.max_txns = slots;
    cfg.max_udp_payload = MsgPool::max_size;
    cfg.overload_percent = 0;  // measure to the last slot
    Discard sink;
    WorkerStats st;
    auto p = std::make_unique<SinkProxy>();
    if (!p->init(cfg, 0, 1, 0, sink, st)) {
        std::fprintf(stderr, "init failed (memory?)\n");
        return 1;
    }
    p->set_routes(&one.routes);
    if (resident) p->prefault_indexes();
    const long rss1 = rss_kib();
    size_t msg_bytes = 0;
    for (uint64_t i = 0; i < n; i++) {
        const std::string m = invite(i, sdp);
        if (i == 0) msg_bytes = m.size();
        p->on_datagram(caller, m.data(), m.size(), 0);
    }
    const long rss2 = rss_kib();
    const uint64_t pending = st.txn_client_active;
    std::printf(
        "{\"invites\": %llu, \"invite_bytes\": %zu, \"slots\": %u, \"indexes_resident\": %s, \"pending_client_txns\": %llu, "
        "\"active_slots\": %u, \"retained_messages\": %u, \"forwarded\": %llu, \"txn_exhausted\": %llu, "
        "\"rss_kib\": {\"before_init\": %ld, \"after_init\": %ld, \"after_invites\": %ld}, "
        "\"reserved_bytes_per_slot\": %.0f, \"rss_growth_per_pending_invite\": %.0f, "
        "\"rss_per_pending_invite_with_its_slots\": %.0f}\n",
        (unsigned long long)n, msg_bytes, slots, resident ? "true" : "false", (unsigned long long)pending, p->active_slots(),
        p->retained_messages(), (unsigned long long)sink.sent,
        (unsigned long long)st.drops[size_t(DropReason::txn_exhausted)], rss0, rss1, rss2,
        double(rss1 - rss0) * 1024.0 / double(slots), double(rss2 - rss1) * 1024.0 / double(n ? n : 1),
        double(rss2 - rss0) * 1024.0 / double(n ? n : 1));
    return 0;
}

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    const uint32_t slots = argc > 2 ? uint32_t(std::strtoul(argv[2], nullptr, 10)) : uint32_t(2 * n + n / 4);
    const bool sdp = argc > 3 ? std::atoi(argv[3]) != 0 : true;
    const bool resident = argc > 4 && std::atoi(argv[4]) != 0;
    return sipedge::dp::run(n, slots, sdp, resident);
}
