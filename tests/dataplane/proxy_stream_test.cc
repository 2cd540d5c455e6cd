// SIP over TCP/TLS in the proxy core (issue 14): a request that arrived on a
// stream (its source Endpoint says tcp/tls) is answered on that connection
// (the source address, not the Via's sent-by port; RFC 3261 §18.2.2),
// its server transaction retransmits nothing (§17.2: reliable), and a
// request bridged to a UDP carrier gets a double Record-Route whose access
// side entry names the transport (§16.6 step 4, RFC 5658). In-dialog
// requests to a URI with ;transport=tcp go over TCP with our Via saying so.

#include <map>

#include "sipparse/headers.h"
#include "tests/dataplane/proxy_fixture.h"

namespace sipedge::dp {
namespace {

class StreamTest : public ProxyTest {
protected:
    // A second proxy as sipedge --sip-tcp makes it (ProxyConfig::streams;
    // <tls_port>: --tls-cert), recording into sk/ws.
    void init_streaming(uint16_t tls_port = 0, uint32_t max_txns = 64, uint32_t outbox_actions = 1024) {
        ProxyConfig c;
        c.self = edge;
        c.max_txns = max_txns;
        c.outbox_actions = outbox_actions;
        c.streams = true;
        c.tls_port = tls_port;
        ASSERT_TRUE(q.init(c, 0, 1234, 0, sk, ws));
    }
    // Trunk 7 (server-list epoch 3): primary over TLS, secondary over UDP
    // (ADTRAN rollover 3 s); the default trunk of q.
    void route_to_tls_primary() {
        auto r = std::make_shared<failover::TrunkRoutes>();
        r->trunk_id = 7;
        r->list_epoch = 3;
        failover::AdtranTimers at;
        at.rollover_s = 3;
        for (auto k : {failover::RequestKind::invite, failover::RequestKind::register_, failover::RequestKind::other})
            r->policy[size_t(k)] = failover::make_policy(at, k);
        r->cand[r->count] = cand(Endpoint{ip_of(21), 5061}, 0);
        r->cand[r->count++].transport = sip::Transport::tls;
        r->cand[r->count++] = cand(secondary, 1);
        failover::TableBuilder b(nullptr);
        b.set(std::move(r));
        table_ = b.build();
        uint32_t cs[2];
        fill_routes(rt_, table_.get(), caller, primary, secondary, cs);
        rt_.default_trunk = 7;
        q.set_routes(&rt_);
    }
    const Endpoint tls_primary{ip_of(21), 5061, sip::Transport::tls};
    Sink sk;
    WorkerStats ws;
    SinkProxy q;
    Routes rt_;
    decltype(failover::TableBuilder(nullptr).build()) table_;
};

const Endpoint tcp_caller{ip_of(1), 40312, sip::Transport::tcp};  // the connection's source port

std::string tcp_invite(const char* via_tp = "TCP", const char* method = "INVITE",
                       const char* branch = "z9hG4bK-t1") {
    return std::string(method) + " sip:1000@192.0.2.10:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/" + via_tp + " 192.0.2.1:5060;branch=" + branch + "\r\n"
           "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:1000@192.0.2.10>\r\n"
           "Call-ID: t1@192.0.2.1\r\nCSeq: 1 " + method + "\r\n"
           "Contact: <sip:a@192.0.2.1:5060;transport=tcp>\r\nMax-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n";
}

TEST_F(StreamTest, TcpInviteIsAnsweredOnItsConnectionAndBridgedToUdpWithDoubleRecordRoute) {
    in(tcp_caller, tcp_invite());
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[0].to, tcp_caller);  // the 100 on the connection, not to sent-by :5060
    EXPECT_EQ(status_of(sink.out[0].msg), 100);
    EXPECT_EQ(sink.out[1].to, primary);
    EXPECT_EQ(sink.out[1].to.tp, sip::Transport::udp);
    const std::string f = sink.out[1].msg;  // a copy: in() clears sink.out
    EXPECT_TRUE(starts(f, "INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=")) << f;
    std::string tcp_rr = rr_value("192.0.2.10:5060", "t1@192.0.2.1", "f1");
    tcp_rr.insert(tcp_rr.find(";lr"), ";transport=tcp");
    EXPECT_NE(f.find("Record-Route: " + rr_value("192.0.2.10:5060", "t1@192.0.2.1", "f1") + "," + tcp_rr + "\r\n"),
              std::string::npos)
        << f;
    // Responses from the UDP carrier go back on the connection, without our Via.
    in(primary, response_to(f, 180, "Ringing"), 20);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, tcp_caller);
    EXPECT_EQ(sink.out[0].msg.find("192.0.2.10:5060;branch"), std::string::npos);
    EXPECT_NE(sink.out[0].msg.find("SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-t1"), std::string::npos);
    // A final non-2xx is relayed once: no Timer G over a reliable transport.
    in(primary, response_to(f, 486, "Busy Here"), 40);
    size_t up = 0;
    for (const Sent& s : sink.out) up += s.to == tcp_caller && status_of(s.msg) == 486;
    EXPECT_EQ(up, 1u);
    sink.out.clear();
    for (Millis t = 50; t <= 40000; t += 250) p.advance(t);
    for (const Sent& s : sink.out) EXPECT_NE(s.to, tcp_caller) << s.msg;  // nothing repeated upstream
    EXPECT_EQ(st.sip_retransmissions_tx, 0u);
}

TEST_F(StreamTest, ViaTransportMustMatchTheOneTheRequestCameOn) {
    in(tcp_caller, tcp_invite("UDP", "INVITE", "z9hG4bK-t2"));  // says UDP, came over TCP
    EXPECT_TRUE(sink.out.empty());
    in(caller, tcp_invite("TCP", "INVITE", "z9hG4bK-t3"));  // says TCP, came over UDP
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.drops[size_t(DropReason::sip_not_udp)], 2u);
    in(tcp_caller, tcp_invite("TCP", "OPTIONS", "z9hG4bK-t4"));  // matching: forwarded over UDP
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, primary);
}

TEST_F(StreamTest, InDialogRequestToATcpContactGoesOverTcpWithATcpVia) {
    // The carrier's BYE behind our (verified) Record-Route, to the caller's
    // contact with ;transport=tcp.
    const std::string bye =
        "BYE sip:a@192.0.2.1:5070;transport=tcp SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK-b1\r\n"
        "Route: " + rr_value("192.0.2.10:5060", "t1@192.0.2.1", "f1") + "\r\n"
        "From: <sip:1000@192.0.2.10>;tag=t9\r\nTo: <sip:a@192.0.2.1>;tag=f1\r\n"
        "Call-ID: t1@192.0.2.1\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(primary, bye);
    ASSERT_EQ(sink.out.size(), 1u);
    const Endpoint want{ip_of(1), 5070, sip::Transport::tcp};
    EXPECT_EQ(sink.out[0].to, want);
    EXPECT_TRUE(starts(sink.out[0].msg, "BYE sip:a@192.0.2.1:5070;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10:5060;branch="))
        << sink.out[0].msg;
    // Reliable: no retransmission of the BYE over TCP (Timer E off); Timer F still ends it.
    sink.out.clear();
    for (Millis t = 100; t <= 31000; t += 100) p.advance(t);
    size_t resent = 0;
    for (const Sent& s : sink.out) resent += s.to == want;
    EXPECT_EQ(resent, 0u);
}

// After a double Record-Route (UDP carrier side, TCP access side), each
// side's in-dialog requests name both our entries; a Request-URI without a
// transport goes over the transport of our last Route (the next hop's side).
TEST_F(StreamTest, InDialogRequestsTakeTheTransportOfOurRouteTowardTheirSide) {
    std::string udp_rr = rr_value("192.0.2.10:5060", "t1@192.0.2.1", "f1");
    std::string tcp_rr = udp_rr;
    tcp_rr.insert(tcp_rr.find(";lr"), ";transport=tcp");
    auto request = [&](const char* method, const char* ruri, const char* via, const std::string& route,
                       const char* from_tag, const char* to_tag) {
        return std::string(method) + " " + ruri + " SIP/2.0\r\nVia: " + via +
               "\r\nRoute: " + route + "\r\nFrom: <sip:x@192.0.2.1>;tag=" + from_tag +
               "\r\nTo: <sip:y@192.0.2.10>;tag=" + to_tag +
               "\r\nCall-ID: t1@192.0.2.1\r\nCSeq: 5 " + method +
               "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    };
    // The carrier's INFO (its route set: our entries as it got them, UDP first).
    in(primary, request("INFO", "sip:sipp@192.0.2.1:5060", "SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK-i1",
                        udp_rr + "," + tcp_rr, "t9", "f1"));
    ASSERT_EQ(sink.out.size(), 1u);
    const Endpoint caller_tcp{ip_of(1), 5060, sip::Transport::tcp};
    EXPECT_EQ(sink.out[0].to, caller_tcp);
    EXPECT_TRUE(starts(sink.out[0].msg, "INFO sip:sipp@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/TCP ")) << sink.out[0].msg;
    EXPECT_EQ(sink.out[0].msg.find("Route:"), std::string::npos);  // both ours, both taken off
    // The caller's BYE over TCP (its route set reversed: TCP entry first) goes to the carrier over UDP.
    in(tcp_caller, request("BYE", "sip:192.0.2.21:5060", "SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-b2",
                           tcp_rr + "," + udp_rr, "f1", "t9"));
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, primary);
    EXPECT_TRUE(starts(sink.out[0].msg, "BYE sip:192.0.2.21:5060 SIP/2.0\r\nVia: SIP/2.0/UDP ")) << sink.out[0].msg;
}

// A trunk whose primary is reached over TLS and whose secondary over UDP
// (sipedge --sip-tcp: ProxyConfig::streams). The request to the primary
// says TLS in our Via, names the trunk server for the stream thread
// (SendNote: failover attribution and the trunk's TLS profile) and is not
// retransmitted; when its connection fails the stream thread hands it back
// (on_stream_failure) and the walk moves to the secondary at once, our Via
// and Record-Route rewritten to UDP.
TEST_F(StreamTest, ATlsServerWhoseConnectionFailsRollsOverAtOnce) {
    init_streaming();
    route_to_tls_primary();
    const std::string inv = invite();
    q.on_datagram(caller, inv.data(), inv.size(), 0);
    ASSERT_EQ(sk.out.size(), 2u);
    EXPECT_EQ(sk.out[1].to, tls_primary);
    const std::string sent = sk.out[1].msg;
    EXPECT_TRUE(starts(sent, "INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.10:5060;branch=")) << sent;
    std::string tls_rr = rr_value("192.0.2.10:5060", "c1@192.0.2.1", "f1");
    std::string udp_rr = tls_rr;
    tls_rr.replace(0, 5, "<sips:");  // a TLS side: sips (RFC 5630)
    EXPECT_NE(sent.find("Record-Route: " + tls_rr + "," + udp_rr + "\r\n"), std::string::npos) << sent;
    ASSERT_EQ(sk.notes.size(), 1u);
    EXPECT_EQ(sk.notes[0].trunk_id, 7u);
    EXPECT_EQ(sk.notes[0].list_epoch, 3u);
    EXPECT_EQ(sk.notes[0].server_idx, 0u);
    // Reliable: nothing repeated to the primary before the connection fails.
    sk.out.clear();
    for (Millis now = 100; now <= 1500; now += 100) q.advance(now);
    EXPECT_TRUE(sk.out.empty());
    // Bounced at 1.6 s: the secondary now, over UDP, Via and Record-Route rewritten.
    EXPECT_FALSE(q.on_stream_failure(secondary, sent.data(), sent.size(), 1600));  // not where it went
    EXPECT_TRUE(q.on_stream_failure(tls_primary, sent.data(), sent.size(), 1600));
    ASSERT_EQ(sk.out.size(), 1u);
    EXPECT_EQ(sk.out[0].to, secondary);
    const std::string& again = sk.out[0].msg;
    EXPECT_TRUE(starts(again, "INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=")) << again;
    EXPECT_NE(again.find("Record-Route: " + udp_rr + "\r\n"), std::string::npos) << again;
    EXPECT_EQ(again.find("sips:"), std::string::npos) << again;
    EXPECT_EQ(ws.rollover_icmp + ws.rollover_timeout + ws.rollover_503, 1u);
    // Reported by the stream thread's connection event, not again as ICMP.
    for (const failover::ServerEvent& ev : sk.events)
        EXPECT_NE(ev.kind, failover::EventKind::icmp_unreachable) << "server " << ev.server_idx;
    // A stale bounce (the same message again) changes nothing.
    sk.out.clear();
    EXPECT_FALSE(q.on_stream_failure(tls_primary, sent.data(), sent.size(), 1700));
    EXPECT_TRUE(sk.out.empty());
}

// The TLS carrier closes its connection (FIN/RST: not a failover trigger,
// seed P) while requests on it have no answer: what was written into it may
// be lost, so each such request is resent (msg_closed → on_stream_closed),
// to the same server, same branch — no rollover; at most three times. One
// already answered (a 100) is not resent. Closes close together share one
// scan of the slots.
// Issue 13: a close scan that fills the outbox goes on in advance(); a
// close heard meanwhile starts it over there, not at once (closes arriving
// by the hundred would each rescan the table). Every request is resent.
TEST_F(StreamTest, ACloseDuringAnUnfinishedScanIsLeftToAdvance) {
    init_streaming(0, 256, 32);  // 32 actions: a scan stops with 16 still free (17 resends)
    route_to_tls_primary();
    for (int i = 0; i < 60; i++) {
        std::string m = invite(("z9hG4bK-o" + std::to_string(i)).c_str(), 70, "OPTIONS");
        m.replace(m.find("Call-ID: c1@"), 12, "Call-ID: o" + std::to_string(i) + "@");
        q.on_datagram(caller, m.data(), m.size(), 0);
    }
    ASSERT_EQ(sk.out.size(), 60u);
    sk.out.clear();
    EXPECT_EQ(q.on_stream_closed(tls_primary, 100), 17u);  // as far as the outbox goes
    EXPECT_EQ(q.on_stream_closed(tls_primary, 101), 0u);   // unfinished: left to advance()
    EXPECT_EQ(sk.out.size(), 17u);
    q.advance(101);
    std::map<std::string, int> copies;
    for (const auto& o : sk.out) {
        EXPECT_EQ(o.to, tls_primary);
        copies[o.msg]++;
    }
    EXPECT_EQ(copies.size(), 60u);  // every request again, the first 17 also after the second close
    EXPECT_EQ(ws.txn_resent_closed, 77u);
    EXPECT_EQ(ws.drops[size_t(DropReason::outbox_full)], 0u);
}

TEST_F(StreamTest, AClosedConnectionsUnansweredRequestsAreResentToTheSameServer) {
    init_streaming();
    route_to_tls_primary();
    const std::string inv = invite();
    q.on_datagram(caller, inv.data(), inv.size(), 0);
    ASSERT_EQ(sk.out.size(), 2u);
    ASSERT_EQ(sk.out[1].to, tls_primary);
    const std::string sent1 = sk.out[1].msg;
    std::string inv2 = invite("z9hG4bK-i2");
    inv2.replace(inv2.find("Call-ID: c1@"), 12, "Call-ID: c2@");
    q.on_datagram(caller, inv2.data(), inv2.size(), 10);
    ASSERT_EQ(sk.out.size(), 4u);
    const std::string sent2 = sk.out[3].msg;
    q.on_datagram(tls_primary, response_to(sent2, 100, "Trying").data(), response_to(sent2, 100, "Trying").size(), 20);
    sk.out.clear();
    // The first close in a quiet period is looked at at once; the next ones
    // within close_scan_ms() (10 ms + 1 per 2,048 slots) wait for advance().
    EXPECT_EQ(q.on_stream_closed(Endpoint{ip_of(21), 5061, sip::Transport::tcp}, 30), 0u);  // another transport
    EXPECT_EQ(q.on_stream_closed(Endpoint{ip_of(22), 5061, sip::Transport::tls}, 31), 0u);  // another peer
    EXPECT_EQ(q.on_stream_closed(tls_primary, 32), 0u);  // gathered
    EXPECT_EQ(q.on_stream_closed(tls_primary, 33), 0u);
    EXPECT_TRUE(sk.out.empty());
    // A request sent after the close (on a new connection) is not resent by the scan.
    std::string inv3 = invite("z9hG4bK-i3");
    inv3.replace(inv3.find("Call-ID: c1@"), 12, "Call-ID: c3@");
    q.on_datagram(caller, inv3.data(), inv3.size(), 35);
    ASSERT_EQ(sk.out.size(), 2u);
    EXPECT_EQ(sk.out[1].to, tls_primary);
    const std::string sent3 = sk.out[1].msg;
    sk.out.clear();
    q.advance(39);
    EXPECT_TRUE(sk.out.empty());
    q.advance(40);  // one scan for both closes
    ASSERT_EQ(sk.out.size(), 1u);
    EXPECT_EQ(sk.out[0].to, tls_primary);
    EXPECT_EQ(sk.out[0].msg, sent1) << "the same request, same branch";
    EXPECT_EQ(ws.txn_resent_closed, 1u);
    EXPECT_EQ(ws.rollover_icmp + ws.rollover_timeout + ws.rollover_503, 0u);
    const std::string trying3 = response_to(sent3, 100, "Trying");  // answered: out of what follows
    q.on_datagram(tls_primary, trying3.data(), trying3.size(), 41);
    // Its new connection closes too: again, up to max_close_resends (3) times in all.
    sk.out.clear();
    EXPECT_EQ(q.on_stream_closed(tls_primary, 100), 1u);
    EXPECT_EQ(q.on_stream_closed(tls_primary, 200), 1u);
    EXPECT_EQ(sk.out.size(), 2u);
    sk.out.clear();
    EXPECT_EQ(q.on_stream_closed(tls_primary, 300), 0u);
    EXPECT_TRUE(sk.out.empty());
    EXPECT_EQ(ws.txn_resent_closed, 3u);
    // Answered on the new connection: relayed as usual.
    const std::string ok = response_to(sent1, 180, "Ringing");
    q.on_datagram(tls_primary, ok.data(), ok.size(), 310);
    ASSERT_EQ(sk.out.size(), 1u);
    EXPECT_EQ(sk.out[0].to, caller);
}

// Access side over TLS on our TLS port (sipedge --tls-cert: ProxyConfig::
// tls_port): the access side's Record-Route entry names that port, and a
// Route naming it is ours.
TEST_F(StreamTest, TheTlsSideOfARecordRouteNamesOurTlsPort) {
    init_streaming(5061);
    q.set_routes(&routes);
    const Endpoint tls_caller{ip_of(1), 40999, sip::Transport::tls};
    const std::string inv = tcp_invite("TLS");
    q.on_datagram(tls_caller, inv.data(), inv.size(), 0);
    ASSERT_EQ(sk.out.size(), 2u);
    EXPECT_EQ(sk.out[0].to, tls_caller);
    EXPECT_EQ(sk.out[1].to, primary);
    std::string udp_rr = rr_value("192.0.2.10:5060", "t1@192.0.2.1", "f1");
    std::string tls_rr = rr_value("192.0.2.10:5061", "t1@192.0.2.1", "f1");
    tls_rr.replace(0, 5, "<sips:");  // a TLS side: sips (RFC 5630)
    EXPECT_NE(sk.out[1].msg.find("Record-Route: " + udp_rr + "," + tls_rr + "\r\n"), std::string::npos)
        << sk.out[1].msg;
    // The caller's BYE through its route set (TLS entry first): both ours, to the carrier.
    sk.out.clear();
    const std::string bye = "BYE sip:192.0.2.21:5060 SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:40999;branch=z9hG4bK-tb\r\n"
                            "Route: " + tls_rr + "," + udp_rr + "\r\nFrom: <sip:a@192.0.2.1>;tag=f1\r\n"
                            "To: <sip:1000@192.0.2.10>;tag=t9\r\nCall-ID: t1@192.0.2.1\r\nCSeq: 2 BYE\r\n"
                            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    q.on_datagram(tls_caller, bye.data(), bye.size(), 10);
    ASSERT_EQ(sk.out.size(), 1u);
    EXPECT_EQ(sk.out[0].to, primary);
    EXPECT_EQ(sk.out[0].msg.find("Route:"), std::string::npos) << sk.out[0].msg;
}

TEST_F(StreamTest, UriTransportsTheEdgeDoesNotCarryAreRefused) {
    Endpoint e;
    sip::Uri u;
    const std::string ws = "sip:a@192.0.2.1:5070;transport=ws";
    ASSERT_TRUE(sip::parse_uri(ws.data(), sip::Span{0, uint16_t(ws.size())}, u));
    EXPECT_FALSE(uri_endpoint(u, ws.data(), e));
    const std::string tls = "sips:a@192.0.2.1";
    ASSERT_TRUE(sip::parse_uri(tls.data(), sip::Span{0, uint16_t(tls.size())}, u));
    ASSERT_TRUE(uri_endpoint(u, tls.data(), e));
    EXPECT_EQ(e.tp, sip::Transport::tls);
    EXPECT_EQ(e.port, 5061);
    const std::string udp = "sip:a@192.0.2.1;transport=UDP";
    ASSERT_TRUE(sip::parse_uri(udp.data(), sip::Span{0, uint16_t(udp.size())}, u));
    ASSERT_TRUE(uri_endpoint(u, udp.data(), e));
    EXPECT_EQ(e.tp, sip::Transport::udp);
    EXPECT_EQ(e.port, 5060);
}

// uri_endpoint() reads the dotted quad the URI parser validated without a
// second validation: every octet length (1-3 digits, leading zeros as
// parse_ipv4 takes them), with and without a port and parameters, against
// parse_ipv4's value.
TEST(UriEndpoint, TheDottedQuadIsParseIpv4sValue) {
    const char* octets[] = {"0", "9", "10", "99", "100", "255", "01", "001", "010", "250", "199", "7"};
    const char* tails[] = {"", ":5070", ";lr", ":1;transport=tcp"};
    size_t n = 0;
    for (const char* a : octets)
        for (const char* b : octets)
            for (const char* c : {"0", "18", "255", "007"})
                for (const char* d : octets)
                    for (const char* tail : tails) {
                        const std::string host = std::string(a) + "." + b + "." + c + "." + d;
                        const std::string uri = "sip:u@" + host + tail;
                        sip::Uri u;
                        ASSERT_TRUE(sip::parse_uri(uri.data(), sip::Span{0, uint16_t(uri.size())}, u)) << uri;
                        ASSERT_EQ(u.host.kind, sip::HostKind::ipv4) << uri;
                        Endpoint e;
                        uint32_t want = 0;
                        ASSERT_TRUE(parse_ipv4(host, want)) << host;
                        ASSERT_TRUE(uri_endpoint(u, uri.data(), e)) << uri;
                        ASSERT_EQ(e.ip, want) << uri;
                        n++;
                    }
    EXPECT_EQ(n, 12u * 12 * 4 * 12 * 4);
}

}  // namespace
}  // namespace sipedge::dp
