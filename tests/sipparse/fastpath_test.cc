// The shortcuts parse() takes for the common shapes of a carrier message
// (issue 2): a line's first ':' from the same compare that finds its '\n',
// the last-32-bytes compare at the end of a bodiless message, known header
// names not rescanned, "SIP/2.0" and "UDP " and "sip:" matched whole, dotted
// quads in one pass (16-byte digit/dot masks where 16 bytes can be read),
// ports from a digit mask, masked 16-byte header-name compares, CSeq's known
// methods without the token scan, name-addr's '<' and '"x" <' shortcuts,
// vector quoted strings and reason phrases. Each test puts the byte that
// matters on both sides of the block boundaries those shortcuts use, and
// checks the result and the error offset the general path gives. Inputs end
// on a PROT_NONE page (GuardedBuffer).

#include <gtest/gtest.h>

#include <string>

#include "sipparse/fastpath.h"
#include "sipparse/headers.h"
#include "sipparse/message.h"
#include "tests/support/guarded_buffer.h"

namespace sipedge::sip {
namespace {

using test::GuardedBuffer;

// A minimal valid response whose headers are <extra> plus the mandatory
// ones; <tail> is the last header line (the message has no body).
std::string response(const std::string& extra, const std::string& tail = "Content-Length: 0\r\n",
                     const std::string& reason = "OK") {
    return "SIP/2.0 200 " + reason +
           "\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
           "From: <sip:a@example.com>;tag=1\r\n"
           "To: <sip:b@example.com>\r\n"
           "Call-ID: c1@example.com\r\n"
           "CSeq: 1 INVITE\r\n" +
           extra + tail + "\r\n";
}

struct Result {
    ParseStatus st;
    ParseError err;
    uint16_t off;
};

Result run(const std::string& s, Message& m, Framing f = Framing::datagram) {
    GuardedBuffer buf(s);
    const ParseStatus st = parse(buf.data(), buf.size(), m, f);
    return {st, m.error, m.error_off};
}

// Header names of every length up to past the 32-byte first compare, known
// and unknown, with and without SP before the ':'.
TEST(FastPath, HeaderNameAnyLengthAndColonPosition) {
    for (size_t n = 1; n <= 45; n++) {
        for (const char* ws : {"", " ", " \t "}) {
            const std::string name = "X" + std::string(n - 1, 'a');
            Message m;
            const std::string msg = response(name + ws + ": v\r\n");
            ASSERT_EQ(run(msg, m).st, ParseStatus::ok) << n << " '" << ws << "'";
            const Header* h = nullptr;
            for (uint16_t i = 0; i < m.header_count; i++)
                if (m.headers[i].name.len == n && msg[m.headers[i].name.off] == 'X') h = &m.headers[i];
            ASSERT_NE(h, nullptr) << n;
            EXPECT_EQ(h->name.str(msg.data()), name);
            EXPECT_EQ(h->value.str(msg.data()), "v");
        }
    }
}

// A bad byte in a name: the error points at it, wherever the ':' is.
TEST(FastPath, BadHeaderNameOffsets) {
    const std::string head = response("", "");
    const size_t line = head.size() - 2;  // where the extra line goes
    struct Case {
        std::string line;
        size_t off;  // expected error offset within the line
    } cases[] = {
        {"X@y: v\r\n", 1},
        {"Via@: v\r\n", 3},                        // known length, not a known name
        {"A B: v\r\n", 2},                         // SP inside the name
        {"NoColonHere\r\n", 11},                   // the line end
        {": v\r\n", 0},                            // empty name
        {"@x: v\r\n", 0},                          // bad first byte
        {std::string(40, 'n') + "@: v\r\n", 40},   // past the first 32 bytes
        {std::string(40, 'n') + "\r\n", 40},       // long line, no ':'
        {"Name\r: v\r\n", 4},                      // CR inside the line
    };
    for (const Case& c : cases) {
        const std::string msg = head.substr(0, line) + c.line + "Content-Length: 0\r\n\r\n";
        Message m;
        const Result r = run(msg, m);
        EXPECT_EQ(r.st, ParseStatus::invalid) << c.line;
        EXPECT_EQ(r.err, ParseError::bad_header_name) << c.line;
        EXPECT_EQ(r.off, line + c.off) << c.line;
    }
}

// The last header lines sit in the buffer's final 32 bytes (no body): every
// split of the final line between "near the end" and "not" parses the same.
TEST(FastPath, LastLinesOfABodilessMessage) {
    for (size_t pad = 0; pad < 40; pad++) {
        const std::string tail = "X-P: " + std::string(pad, 'p') + "\r\nl: 0\r\n";
        const std::string msg = response("", tail);
        Message m;
        ASSERT_EQ(run(msg, m).st, ParseStatus::ok) << pad;
        ASSERT_TRUE(m.has_content_length);
        EXPECT_EQ(m.content_length, 0u);
        EXPECT_EQ(m.size, msg.size());
        const Header* x = m.find(HeaderId::other);
        ASSERT_NE(x, nullptr);
        EXPECT_EQ(x->value.len, pad);
        // Cut inside the last line: incomplete (stream) / unterminated (datagram).
        for (size_t cut = msg.size() - 9; cut < msg.size(); cut++) {
            Message m2;
            EXPECT_EQ(run(msg.substr(0, cut), m2, Framing::stream).st, ParseStatus::incomplete);
            Message m3;
            const Result r = run(msg.substr(0, cut), m3);
            EXPECT_EQ(r.st, ParseStatus::invalid);
            EXPECT_EQ(r.err, ParseError::headers_unterminated);
        }
    }
}

// Reason-Phrase: control bytes other than HTAB are refused at their offset,
// in the first 16 bytes or later; HTAB and UTF-8 are text.
TEST(FastPath, ReasonPhraseControlBytes) {
    for (size_t at = 0; at < 40; at++) {
        for (const char bad : {'\x01', '\x1f', '\x7f', '\0'}) {
            std::string reason(40, 'r');
            reason[at] = bad;
            const std::string msg = response("", "Content-Length: 0\r\n", reason);
            Message m;
            const Result r = run(msg, m);
            EXPECT_EQ(r.st, ParseStatus::invalid) << at;
            EXPECT_EQ(r.err, ParseError::bad_start_line) << at;
            EXPECT_EQ(r.off, 12 + at) << at;  // "SIP/2.0 200 " is 12 bytes
        }
        std::string ok(40, 'r');
        ok[at] = '\t';
        Message m;
        EXPECT_EQ(run(response("", "Content-Length: 0\r\n", ok + "\xc3\xa9"), m).st, ParseStatus::ok);
    }
}

// Versions that look like "SIP/2.0" but are not take the general check.
TEST(FastPath, VersionLookalikes) {
    const std::string rest = response("").substr(std::string("SIP/2.0 200 OK").size());
    Message m;
    EXPECT_EQ(run("SIP/2.0 180 Ringing" + rest, m).st, ParseStatus::ok);
    EXPECT_EQ(m.status, 180);
    EXPECT_EQ(run("SIP/2.00 200 OK" + rest, m).err, ParseError::unsupported_version);
    EXPECT_EQ(run("sip/2.0 200 OK" + rest, m).st, ParseStatus::invalid);  // not a status line
    EXPECT_EQ(run("SIP/3.0 200 OK" + rest, m).err, ParseError::unsupported_version);
    const std::string hdrs =
        "\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@x.example>;tag=1\r\n"
        "To: <sip:b@x.example>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
    EXPECT_EQ(run("OPTIONS sip:x.example SIP/2.0" + hdrs, m).st, ParseStatus::ok);
    EXPECT_EQ(run("OPTIONS sip:x.example SIP/2.0 " + hdrs, m).err, ParseError::bad_start_line);
    EXPECT_EQ(run("OPTIONS sip:x.example SIP/2.1" + hdrs, m).err, ParseError::unsupported_version);
    EXPECT_EQ(run("OPTIONS sip:x.example SIP/2.0x" + hdrs, m).err, ParseError::bad_version);
}

// CSeq method against the request method: ids for known methods, bytes for
// extension methods; case matters (RFC 3261 §7.1).
TEST(FastPath, CSeqMethodMatch) {
    auto req = [](const std::string& method, const std::string& cseq_method) {
        return method +
               " sip:x.example SIP/2.0\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\n"
               "From: <sip:a@x.example>;tag=1\r\nTo: <sip:b@x.example>\r\nCall-ID: c\r\n"
               "CSeq: 7 " +
               cseq_method + "\r\nl: 0\r\n\r\n";
    };
    Message m;
    EXPECT_EQ(run(req("INVITE", "INVITE"), m).st, ParseStatus::ok);
    EXPECT_EQ(run(req("INVITE", "invite"), m).err, ParseError::cseq_mismatch);
    EXPECT_EQ(run(req("INVITE", "BYE"), m).err, ParseError::cseq_mismatch);
    EXPECT_EQ(run(req("FOO", "FOO"), m).st, ParseStatus::ok);
    EXPECT_EQ(run(req("FOO", "FOX"), m).err, ParseError::cseq_mismatch);
    EXPECT_EQ(run(req("FOO", "FOOO"), m).err, ParseError::cseq_mismatch);
    EXPECT_EQ(run(req("INVITE", "INVITEX"), m).err, ParseError::cseq_mismatch);
}

// CSeq numbers: below 2^31, 1 to 32 digits (leading zeros count).
TEST(FastPath, CSeqNumbers) {
    CSeq c;
    auto ok = [&](const std::string& v) { return parse_cseq(v.data(), make_span(0, v.size()), c); };
    EXPECT_TRUE(ok("2147483647 INVITE"));
    EXPECT_EQ(c.number, 2147483647u);
    EXPECT_FALSE(ok("2147483648 INVITE"));
    EXPECT_TRUE(ok(std::string(31, '0') + "1 ACK"));
    EXPECT_EQ(c.number, 1u);
    EXPECT_FALSE(ok(std::string(32, '0') + "1 ACK"));  // 33 digits
    EXPECT_FALSE(ok("INVITE"));
    EXPECT_FALSE(ok("1INVITE"));
    EXPECT_FALSE(ok("99999999999999999999 BYE"));
}

// Hosts: a dotted quad is IPv4 only when the host ends with it; ports are
// 1-5 digits up to 65535.
TEST(FastPath, HostsAndPorts) {
    struct Case {
        const char* in;
        bool ok;
        HostKind kind;
        const char* host;
        int port;  // -1: none
    } cases[] = {
        {"192.0.2.1", true, HostKind::ipv4, "192.0.2.1", -1},
        {"192.0.2.1:5060", true, HostKind::ipv4, "192.0.2.1", 5060},
        {"192.0.2.1:65535", true, HostKind::ipv4, "192.0.2.1", 65535},
        {"192.0.2.1:0", true, HostKind::ipv4, "192.0.2.1", 0},
        {"192.0.2.1:65536", false, HostKind::none, "", -1},
        {"192.0.2.1:050600", false, HostKind::none, "", -1},
        {"192.0.2.1:", false, HostKind::none, "", -1},
        {"192.0.2.1x", true, HostKind::name, "192.0.2.1x", -1},
        {"192.0.2.1.example", true, HostKind::name, "192.0.2.1.example", -1},
        {"256.0.2.1", false, HostKind::none, "", -1},
        {"1.2.3", false, HostKind::none, "", -1},
        {"1.2.3.4.5", false, HostKind::none, "", -1},
        {"1234.1.1.1", false, HostKind::none, "", -1},
        {"9x.example.com:5", true, HostKind::name, "9x.example.com", 5},
    };
    for (const Case& c : cases) {
        const std::string s = c.in;
        HostPort hp;
        const bool ok = parse_hostport(s.data(), make_span(0, s.size()), hp);
        EXPECT_EQ(ok, c.ok) << c.in;
        if (!ok || !c.ok) continue;
        EXPECT_EQ(hp.kind, c.kind) << c.in;
        EXPECT_EQ(hp.host.str(s.data()), c.host) << c.in;
        EXPECT_EQ(hp.has_port, c.port >= 0) << c.in;
        if (c.port >= 0) {
            EXPECT_EQ(hp.port, c.port) << c.in;
        }
    }
    EXPECT_TRUE(valid_ipv4("255.255.255.255", 15));
    EXPECT_FALSE(valid_ipv4("255.255.255.256", 15));
    EXPECT_FALSE(valid_ipv4("1.2.3.4 ", 8));
}

// Quoted display names: escapes, a '"' or '\' on either side of the 16-byte
// step, unterminated strings and an escaped line end.
TEST(FastPath, QuotedDisplayNames) {
    for (size_t n = 0; n < 40; n++) {
        for (const char* esc : {"", "\\\"", "\\\\"}) {
            const std::string disp = std::string(n, 'd') + esc;
            const std::string v = "\"" + disp + "\" <sip:a@example.com>;tag=x";
            GuardedBuffer buf(v);
            NameAddr na;
            ASSERT_TRUE(parse_name_addr(buf.data(), make_span(0, v.size()), na)) << v;
            EXPECT_EQ(na.display.str(buf.data()), disp) << v;
            EXPECT_EQ(na.tag.str(buf.data()), "x") << v;
            const std::string open = "\"" + disp + " <sip:a@example.com>";
            GuardedBuffer b2(open);
            EXPECT_FALSE(parse_name_addr(b2.data(), make_span(0, open.size()), na)) << open;
            const std::string eol = "\"" + disp + "\\\r\n \" <sip:a@example.com>";
            GuardedBuffer b3(eol);
            EXPECT_FALSE(parse_name_addr(b3.data(), make_span(0, eol.size()), na)) << n;
        }
    }
}

// Via transport and URI scheme shortcuts keep case-insensitivity and hand
// anything else to the general path.
TEST(FastPath, TransportAndSchemeShortcuts) {
    struct Case {
        const char* via;
        bool ok;
        Transport t;
    } cases[] = {
        {"SIP/2.0/UDP h.example", true, Transport::udp},
        {"SIP/2.0/udp h.example", true, Transport::udp},
        {"SIP/2.0/UdP\th.example", true, Transport::udp},
        {"SIP/2.0/UDPX h.example", true, Transport::other},
        {"SIP/2.0/TCP h.example", true, Transport::tcp},
        {"SIP/2.0/UDP", false, Transport::unknown},
        {"SIP/2.0/UD@ h.example", false, Transport::unknown},
    };
    for (const Case& c : cases) {
        const std::string s = c.via;
        GuardedBuffer buf(s);
        Via v;
        const bool ok = parse_via(buf.data(), make_span(0, s.size()), v);
        EXPECT_EQ(ok, c.ok) << c.via;
        if (ok) {
            EXPECT_EQ(v.transport, c.t) << c.via;
        }
    }
    for (const char* u : {"sip:a@h.example", "SIP:a@h.example", "sIp:h.example:5060;lr"}) {
        const std::string s = u;
        Uri uri;
        ASSERT_TRUE(parse_uri(s.data(), make_span(0, s.size()), uri)) << u;
        EXPECT_EQ(uri.kind, UriScheme::sip) << u;
    }
    for (const char* u : {"sips:a@h.example", "sip+x:opaque", "sipx:opaque"}) {
        const std::string s = u;
        Uri uri;
        ASSERT_TRUE(parse_uri(s.data(), make_span(0, s.size()), uri)) << u;
        EXPECT_NE(uri.kind, UriScheme::sip) << u;
    }
    const std::string bad = "sip:";
    Uri uri;
    EXPECT_FALSE(parse_uri(bad.data(), make_span(0, bad.size()), uri));
}

// Via parameters: the lower-case "branch=", "received=" and bare "rport"
// that parse_via takes without the general parameter loop, and each shape
// next to them that must go to that loop (upper case, LWS, a value on
// rport, a trailing ';', a quoted or bracketed value). Checked through
// parse() (a read limit past the value) and parse_via() on a buffer that
// ends at the value (GuardedBuffer).
TEST(FastPath, ViaParameters) {
    struct Case {
        const char* params;  // after "SIP/2.0/UDP 192.0.2.1:5060"
        bool ok;
        const char* branch;  // nullptr: none
        bool rfc3261;
        int rport;           // -1: none, 0: bare, else the value
        const char* received;
    } cases[] = {
        {";branch=z9hG4bKabc;rport", true, "z9hG4bKabc", true, 0, ""},
        {";rport;branch=x", true, "x", false, 0, ""},
        {";branch=z9hG4bK", true, "z9hG4bK", true, -1, ""},
        {";branch=z9hG4b", true, "z9hG4b", false, -1, ""},
        {";branch=Z9hG4bKx", true, "Z9hG4bKx", false, -1, ""},
        {";branch=x;", false, nullptr, false, -1, ""},
        {";branch=x; rport", true, "x", false, 0, ""},
        {";branch=x ;rport", true, "x", false, 0, ""},
        {";branch=x;\trport", true, "x", false, 0, ""},
        {";Branch=X", true, "X", false, -1, ""},
        {";branch = x", true, "x", false, -1, ""},
        {";branch=", false, nullptr, false, -1, ""},
        {";branch=\"x\"", true, "x", false, -1, ""},
        {";branch=a;branch=b", true, "b", false, -1, ""},
        {";received=192.0.2.9;branch=b", true, "b", false, -1, "192.0.2.9"},
        {";branch=b;received=192.0.2.9", true, "b", false, -1, "192.0.2.9"},
        {";received=192.0.2.256", false, nullptr, false, -1, ""},
        {";received=192.0.2", false, nullptr, false, -1, ""},
        {";received=host.example", false, nullptr, false, -1, ""},
        {";received=::1;rport=5060", true, nullptr, false, 5060, "::1"},
        {";received=[2001:db8::1]", true, nullptr, false, -1, "[2001:db8::1]"},
        {";RECEIVED=192.0.2.9", true, nullptr, false, -1, "192.0.2.9"},
        {";rport=5060", true, nullptr, false, 5060, ""},
        {";rport=70000", false, nullptr, false, -1, ""},
        // rport=<1-5 digits> is taken whole; other values go to the loop.
        {";rport=65535;branch=x", true, "x", false, 65535, ""},
        {";rport=65536;branch=x", false, nullptr, false, -1, ""},
        {";rport=99999", false, nullptr, false, -1, ""},
        {";rport=1", true, nullptr, false, 1, ""},
        {";rport=12345;received=192.0.2.9", true, nullptr, false, 12345, "192.0.2.9"},
        {";rport=5060 ;branch=x", true, "x", false, 5060, ""},
        {";rport=5060; branch=x", true, "x", false, 5060, ""},
        {";rport=5060;", false, nullptr, false, -1, ""},
        {";rport=", false, nullptr, false, -1, ""},
        {";rport=5060x", false, nullptr, false, -1, ""},
        {";rport=5060;rport", true, nullptr, false, 0, ""},
        {";rport;rport=5060", true, nullptr, false, 5060, ""},
        {";rportx", true, nullptr, false, -1, ""},
        {";rport;", false, nullptr, false, -1, ""},
        {";rport;ttl=5;maddr=239.0.0.1", true, nullptr, false, 0, ""},
        {";branch=x;rport;received=192.0.2.9;alias", true, "x", false, 0, "192.0.2.9"},
        {";branch=x,", false, nullptr, false, -1, ""},
    };
    for (const Case& c : cases) {
        const std::string value = std::string("SIP/2.0/UDP 192.0.2.1:5060") + c.params;
        Via direct;
        GuardedBuffer vb(value);
        const bool ok = parse_via(vb.data(), make_span(0, value.size()), direct);
        EXPECT_EQ(ok, c.ok) << c.params;
        Message m;
        const std::string msg = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: " + value +
                                "\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
                                "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        const Result r = run(msg, m);
        if (std::string(c.params).find(',') != std::string::npos) continue;  // a Via list
        ASSERT_EQ(r.st, c.ok ? ParseStatus::ok : ParseStatus::invalid) << c.params;
        if (!c.ok) {
            EXPECT_EQ(r.err, ParseError::bad_via) << c.params;
            continue;
        }
        for (const auto& [v, base] : {std::pair<const Via&, const char*>{direct, vb.data()},
                                      std::pair<const Via&, const char*>{m.top_via, msg.data() + 0}}) {
            const uint32_t shift = base == vb.data() ? 0 : uint32_t(msg.find(value));
            EXPECT_EQ(v.params.off, shift + 27) << c.params;
            EXPECT_EQ(v.has_branch, c.branch != nullptr) << c.params;
            if (c.branch) {
                EXPECT_EQ(v.branch.str(base), c.branch) << c.params;
            }
            EXPECT_EQ(v.rfc3261_branch, c.rfc3261) << c.params;
            EXPECT_EQ(v.has_rport, c.rport >= 0) << c.params;
            if (c.rport == 0) {
                EXPECT_EQ(v.rport.len, 0) << c.params;
            }
            if (c.rport > 0) {
                EXPECT_EQ(v.rport.str(base), std::to_string(c.rport)) << c.params;
            }
            EXPECT_EQ(v.received.str(base), c.received) << c.params;
        }
    }
}

// From/To ";tag=" and a token to the end, which parse_name_addr takes
// without the parameter loop, and the shapes beside it that take the loop.
TEST(FastPath, NameAddrTag) {
    struct Case {
        const char* in;
        bool ok;
        const char* tag;  // nullptr: none
        const char* params;
    } cases[] = {
        {"<sip:a@x>;tag=abc", true, "abc", "tag=abc"},
        {"<sip:a@x>;tag=a", true, "a", "tag=a"},
        {"<sip:a@x>;tag=abc;foo=1", true, "abc", "tag=abc;foo=1"},
        {"<sip:a@x>;foo=1;tag=abc", true, "abc", "foo=1;tag=abc"},
        {"<sip:a@x>;tag=", false, nullptr, ""},
        {"<sip:a@x>;tag=a b", false, nullptr, ""},
        {"<sip:a@x>;tag=a;", false, nullptr, ""},
        {"<sip:a@x>;TAG=abc", true, "abc", "TAG=abc"},
        {"<sip:a@x>;tag=abc;tag=d", false, nullptr, ""},
        {"<sip:a@x> ;tag=abc", true, "abc", "tag=abc"},
        {"<sip:a@x>;tag = abc", true, "abc", "tag = abc"},
        {"<sip:a@x>;tag=\"q\"", true, "q", "tag=\"q\""},
        {"<sip:a@x>;tag=[q]", true, "[q]", "tag=[q]"},
        {"<sip:a@x>;tagx=1", true, nullptr, "tagx=1"},
        {"sip:a@x;tag=abc", true, "abc", "tag=abc"},
        {"\"A\" <sip:a@x>;tag=9f:1", true, "9f:1", "tag=9f:1"},
    };
    for (const Case& c : cases) {
        const std::string s = c.in;
        GuardedBuffer buf(s);
        NameAddr na;
        const bool ok = parse_name_addr(buf.data(), make_span(0, s.size()), na);
        EXPECT_EQ(ok, c.ok) << c.in;
        if (!ok || !c.ok) continue;
        EXPECT_EQ(na.has_tag, c.tag != nullptr) << c.in;
        if (c.tag) {
            EXPECT_EQ(na.tag.str(buf.data()), c.tag) << c.in;
        }
        EXPECT_EQ(na.params.str(buf.data()), c.params) << c.in;
        // The same value as a From header, parsed with the rest of a message.
        Message m;
        const std::string msg = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                                "From: " + s + "\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\n"
                                "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        ASSERT_EQ(run(msg, m).st, ParseStatus::ok) << c.in;
        EXPECT_EQ(m.from.has_tag, c.tag != nullptr) << c.in;
        EXPECT_EQ(m.from.params.str(msg.data()), c.params) << c.in;
    }
}

// Dotted-quad hosts read with one 16-byte compare (Via sent-by, Request-URI)
// and the port after them: the same host, kind and port as the general path
// (parse_hostport on a span that ends at the buffer end reads them byte by
// byte), for quads at every distance from the end of the buffer.
TEST(FastPath, DottedQuadHostsInline) {
    const char* hosts[] = {
        "192.0.2.1", "192.0.2.1:5060", "192.0.2.1:65535", "192.0.2.1:65536", "192.0.2.1:0",
        "192.0.2.1:123456", "192.0.2.1:99999", "192.0.2.1:", "0.0.0.0", "255.255.255.255",
        "255.255.255.255:1", "123.123.123.123:12345", "01.002.3.4", "199.0.0.1", "200.0.0.1",
        "249.9.9.9", "250.9.9.9", "255.9.9.9", "256.9.9.9", "260.9.9.9", "300.9.9.9", "1.1.1.255",
        "1.1.1.256", "1.1.1.1a", "1.1.1.1-x", "1.1.1.1_", "1.1.1.1.", "1.1.1.1.1", "1..1.1",
        "1.1.1", "1.1.1.1111", "1111.1.1.1", "123.123.123.1234", "9x.example.com", "9.example",
        "1.2.3.4x:5", "1.2.3.4:5x",
    };
    for (const char* h : hosts) {
        const std::string host = h;
        HostPort ref;
        const bool ref_ok = parse_hostport(host.data(), make_span(0, host.size()), ref);
        for (size_t pad = 0; pad <= 40; pad++) {
            // As a Via sent-by, parse_via() on a buffer that ends <pad>
            // bytes after the host (a branch parameter fills them).
            std::string value = "SIP/2.0/UDP " + host;
            if (pad) value += ";branch=" + std::string(pad, 'b');
            GuardedBuffer vb(value);
            Via via;
            const bool ok = parse_via(vb.data(), make_span(0, value.size()), via);
            if (pad == 0 || host.find(':') == std::string::npos || ref_ok) {
                // (With a bad port and a parameter after it, "a:5x;b" is
                // not a sent-by either way.)
                EXPECT_EQ(ok, ref_ok) << h << " pad " << pad;
            }
            if (ok && ref_ok) {
                EXPECT_EQ(via.sent_by.kind, ref.kind) << h << " pad " << pad;
                EXPECT_EQ(via.sent_by.host.off - 12u, ref.host.off) << h << " pad " << pad;
                EXPECT_EQ(via.sent_by.host.len, ref.host.len) << h << " pad " << pad;
                EXPECT_EQ(via.sent_by.has_port, ref.has_port) << h << " pad " << pad;
                EXPECT_EQ(via.sent_by.port, ref.port) << h << " pad " << pad;
            }
            // As a Request-URI host.
            Message m;
            const std::string msg = "OPTIONS sip:" + host + (pad ? ";x=" + std::string(pad, 'u') : "") +
                                    " SIP/2.0\r\nVia: SIP/2.0/UDP " + host +
                                    ";branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n"
                                    "To: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
            const Result r = run(msg, m);
            if (!ref_ok) {
                EXPECT_EQ(r.st, ParseStatus::invalid) << h << " pad " << pad;
                continue;
            }
            ASSERT_EQ(r.st, ParseStatus::ok) << h << " pad " << pad;
            for (const HostPort* hp : {&m.ruri.host, &m.top_via.sent_by}) {
                EXPECT_EQ(hp->kind, ref.kind) << h << " pad " << pad;
                EXPECT_EQ(hp->host.str(msg.data()), ref.host.str(host.data())) << h << " pad " << pad;
                EXPECT_EQ(hp->has_port, ref.has_port) << h << " pad " << pad;
                EXPECT_EQ(hp->port, ref.port) << h << " pad " << pad;
            }
        }
    }
}

// Via received= with a dotted quad, taken without the token scan when a
// quad runs to the end or to ';': the same result with the value at the
// buffer's end (byte path) and inside a message (16-byte path).
TEST(FastPath, ViaReceivedQuad) {
    struct Case {
        const char* params;  // after "SIP/2.0/UDP h.example;branch=x"
        bool ok;
        const char* received;
    } cases[] = {
        {";received=192.0.2.9", true, "192.0.2.9"},
        {";received=192.0.2.9;rport=5060", true, "192.0.2.9"},
        {";received=255.255.255.255;rport", true, "255.255.255.255"},
        {";received=1.2.3.4;x=1", true, "1.2.3.4"},
        {";received=1.2.3.4 ;rport", true, "1.2.3.4"},
        {";received=1.2.3.4;", false, ""},
        {";received=1.2.3.4; rport", true, "1.2.3.4"},
        {";received=256.2.3.4", false, ""},
        {";received=1.2.3.400;rport", false, ""},
        {";received=1.2.3", false, ""},
        {";received=1.2.3.4.5", false, ""},
        {";received=1.2.3.4x", false, ""},
        {";received=1.2.3.4:5", false, ""},
        {";received=01.02.03.04", true, "01.02.03.04"},
        {";received=1.2.3.4,", false, ""},
    };
    for (const Case& c : cases) {
        for (size_t pad = 0; pad <= 20; pad++) {
            const std::string value = std::string("SIP/2.0/UDP h.example;branch=x") + c.params +
                                      (pad ? ";p=" + std::string(pad, 'p') : "");
            const bool has_comma = std::string(c.params).find(',') != std::string::npos;
            GuardedBuffer vb(value);
            Via direct;
            const bool ok = parse_via(vb.data(), make_span(0, value.size()), direct);
            EXPECT_EQ(ok, c.ok) << c.params << " pad " << pad;
            if (ok) {
                EXPECT_EQ(direct.received.str(vb.data()), c.received) << c.params << " pad " << pad;
            }
            if (has_comma) continue;  // a Via list in a message
            Message m;
            const std::string msg = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: " + value +
                                    "\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
                                    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
            const Result r = run(msg, m);
            ASSERT_EQ(r.st, c.ok ? ParseStatus::ok : ParseStatus::invalid) << c.params << " pad " << pad;
            if (c.ok) {
                EXPECT_EQ(m.top_via.received.str(msg.data()), c.received) << c.params << " pad " << pad;
                EXPECT_EQ(m.top_via.received.off, msg.find(value) + (direct.received.off)) << c.params;
            }
        }
    }
}

// Method names: method_from() by length and word compares against the
// canonical table (method_name()); case-sensitive; anything else is an
// extension.
TEST(FastPath, MethodNames) {
    for (int i = int(Method::invite); i <= int(Method::update); i++) {
        const Method want = Method(i);
        const std::string name = method_name(want);
        ASSERT_FALSE(name.empty()) << i;
        GuardedBuffer buf(name);
        EXPECT_EQ(method_from(buf.data(), buf.size()), want) << name;
        std::string lower = name;
        for (char& ch : lower) ch = char(ch | 0x20);
        EXPECT_EQ(method_from(lower.data(), lower.size()), Method::extension) << name;
        const std::string longer = name + "X";
        EXPECT_EQ(method_from(longer.data(), longer.size()), Method::extension) << name;
        EXPECT_EQ(method_from(name.data(), name.size() - 1), Method::extension) << name;
        std::string changed = name;
        changed.back() = char(changed.back() + 1);
        EXPECT_EQ(method_from(changed.data(), changed.size()), Method::extension) << name;
    }
    EXPECT_EQ(method_from("", 0), Method::unknown);
    EXPECT_EQ(method_from("FOO", 3), Method::extension);
}

// CSeq: a known method running to the end of the value is taken without
// the token scan; everything else goes through it.
TEST(FastPath, CSeqKnownMethod) {
    struct Case {
        const char* in;
        bool ok;
        Method m;
        const char* name;
    } cases[] = {
        {"1 INVITE", true, Method::invite, "INVITE"},
        {"1 ACK", true, Method::ack, "ACK"},
        {"1 SUBSCRIBE", true, Method::subscribe, "SUBSCRIBE"},
        {"1  INVITE", true, Method::invite, "INVITE"},
        {"1\tBYE", true, Method::bye, "BYE"},
        {"1 INVITE ", true, Method::invite, "INVITE"},
        {"1 INVITE\t", true, Method::invite, "INVITE"},
        {"1 INVITEX", true, Method::extension, "INVITEX"},
        {"1 invite", true, Method::extension, "invite"},
        {"1 INVITE X", false, Method::unknown, ""},
        {"1 INV@TE", false, Method::unknown, ""},
        {"1 ", false, Method::unknown, ""},
        {"1", false, Method::unknown, ""},
    };
    for (const Case& c : cases) {
        const std::string s = c.in;
        GuardedBuffer buf(s);
        CSeq cs;
        const bool ok = parse_cseq(buf.data(), make_span(0, s.size()), cs);
        EXPECT_EQ(ok, c.ok) << c.in;
        if (!ok || !c.ok) continue;
        EXPECT_EQ(cs.number, 1u) << c.in;
        EXPECT_EQ(cs.method, c.m) << c.in;
        EXPECT_EQ(cs.method_name.str(buf.data()), c.name) << c.in;
    }
}

// name-addr shortcuts: '<' first (no display name: an empty display span
// at the value's start, as the display-name scan gives) and a quoted
// display name followed by one SP and '<'.
TEST(FastPath, NameAddrDisplayShortcuts) {
    struct Case {
        const char* in;
        bool ok;
        const char* display;
        const char* uri;
    } cases[] = {
        {"<sip:a@x>", true, "", "sip:a@x"},
        {"\"A\" <sip:a@x>", true, "A", "sip:a@x"},
        {"\"A\"<sip:a@x>", true, "A", "sip:a@x"},
        {"\"A\"  <sip:a@x>", true, "A", "sip:a@x"},
        {"\"A\" \t<sip:a@x>", true, "A", "sip:a@x"},
        {"\"A\" x<sip:a@x>", false, "", ""},
        {"\"A\" ", false, "", ""},
        {"\"A\" <", false, "", ""},
        {"\"A\" <sip:a@x", false, "", ""},
        {"A B <sip:a@x>", true, "A B", "sip:a@x"},
        {"<>", false, "", ""},
        {"<", false, "", ""},
    };
    for (const Case& c : cases) {
        const std::string s = std::string("xx") + c.in;  // the value starts at offset 2
        GuardedBuffer buf(s);
        NameAddr na;
        const bool ok = parse_name_addr(buf.data(), make_span(2, s.size()), na);
        EXPECT_EQ(ok, c.ok) << c.in;
        if (!ok || !c.ok) continue;
        EXPECT_EQ(na.display.str(buf.data()), c.display) << c.in;
        EXPECT_EQ(na.uri.str(buf.data()), c.uri) << c.in;
        if (c.in[0] == '<') {
            EXPECT_EQ(na.display.off, 2) << c.in;
        }
    }
}

// Header names of 2 to 19 bytes looked up with a 16-byte compare when 16
// bytes can be read from the name, and with word compares otherwise (near
// the end of the buffer): the same ids as header_from().
TEST(FastPath, HeaderNameLookupBothPaths) {
    const char* names[] = {
        "Subject", "SUBJECT", "subject", "Subjecs", "Subjec", "User-Agent", "USER-AGENT", "User_Agent",
        "User-Agenx", "Server", "Accept", "Event", "Allow", "Date", "Require", "Supported",
        "Unsupported", "Timestamp", "Refer-To", "Referred-By", "Session-Expires", "Content-Type",
        "Content-Encoding", "WWW-Authenticate", "Proxy-Authenticate", "Proxy-Authorization",
        "Proxy-Require", "Authorization", "Min-Expires", "Expires", "Contact", "Record-Route",
        "s", "k", "c", "e", "o", "X", "Xy", "Xyz", "Subject-", "Proxy-Authorizatio", "Proxy-Authorizationn",
        "WWW-Authenticatf", "www-authenticate",
    };
    for (const char* n : names) {
        const std::string name = n;
        const HeaderId want = header_from(name.data(), name.size());
        // Last header line (the name within 16 bytes of the end for short
        // names) and followed by another (16 bytes readable).
        for (const bool last : {true, false}) {
            const std::string line = name + ": v\r\n";
            const std::string msg = last ? response("", line) : response(line);
            Message m;
            ASSERT_EQ(run(msg, m).st, ParseStatus::ok) << n << " " << last;
            bool found = false;
            for (uint16_t i = 0; i < m.header_count; i++)
                if (m.headers[i].name.str(msg.data()) == name) {
                    EXPECT_EQ(m.headers[i].id, want) << n << " " << last;
                    found = true;
                }
            EXPECT_TRUE(found) << n;
        }
    }
}

// parse() clears the fields before the header array with straight stores:
// a response parsed into the Message a request used leaves no request
// fields behind.
TEST(FastPath, MessageReuseClearsFields) {
    Message m;
    const std::string req = "INVITE sip:+1@192.0.2.1:5060;transport=udp SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK1;received=192.0.2.3;rport=5\r\n"
                            "Max-Forwards: 70\r\nFrom: \"A\" <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n"
                            "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    ASSERT_EQ(run(req, m).st, ParseStatus::ok);
    EXPECT_EQ(m.ruri.kind, UriScheme::sip);
    const std::string resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\n"
                             "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n";
    ASSERT_EQ(run(resp, m).st, ParseStatus::ok);
    EXPECT_FALSE(m.is_request);
    EXPECT_EQ(m.method, Method::unknown);
    EXPECT_EQ(m.ruri.kind, UriScheme::none);
    EXPECT_EQ(m.ruri.host.port, 0);
    EXPECT_FALSE(m.has_max_forwards);
    EXPECT_FALSE(m.has_content_length);
    EXPECT_TRUE(m.top_via.received.empty());
    EXPECT_FALSE(m.top_via.has_rport);
    EXPECT_FALSE(m.to.has_tag);
    EXPECT_EQ(m.lenient, lenient_no_content_length);
}


// parse_via_top() (the top Via without the ',' search): the same result
// and fields as parse_via_lim(), and 2 ("no ',' in the value") never for a
// value that holds one. parse() then counts and picks the top via-parm as
// before.
TEST(FastPath, TopViaWithoutCommaSearch) {
    const char* values[] = {
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport",
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=5060;received=192.0.2.9",
        "SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.9;branch=z9hG4bK1",
        "SIP/2.0/UDP h.example.com;branch=z9hG4bK1",
        "SIP/2.0/UDP 192.0.2.1",
        "SIP/2.0/UDP h.example.com : 5060 ;branch=z9hG4bK1",
        "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK1",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;alias",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1,SIP/2.0/UDP 192.0.2.2",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1 , SIP/2.0/UDP 192.0.2.2",
        "SIP/2.0/UDP 192.0.2.1,SIP/2.0/UDP 192.0.2.2",
        "SIP/2.0/UDP 192.0.2.1:5060,",
        "SIP/2.0/UDP 192.0.2.1;x=\"a,b\"",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;rport,",
        "SIP/2.0/UDP 192.0.2.1;received=192.0.2.9,x",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP ,",
    };
    for (const char* val : values) {
        const std::string s = val;
        GuardedBuffer buf(s);
        const Span sp{0, uint16_t(s.size())};
        Via a, b;
        const int r = parse_via_top(buf.data(), sp, uint32_t(buf.size()), a);
        const bool ok = parse_via_lim(buf.data(), sp, uint32_t(buf.size()), b);
        EXPECT_EQ(r != 0, ok) << s;
        if (r == 2) EXPECT_EQ(s.find(','), std::string::npos) << s;
        if (!ok) continue;
        EXPECT_EQ(a.sent_by.host.str(buf.data()), b.sent_by.host.str(buf.data())) << s;
        EXPECT_EQ(a.sent_by.port, b.sent_by.port) << s;
        EXPECT_EQ(a.branch.str(buf.data()), b.branch.str(buf.data())) << s;
        EXPECT_EQ(a.received.str(buf.data()), b.received.str(buf.data())) << s;
        EXPECT_EQ(a.has_rport, b.has_rport) << s;
        EXPECT_EQ(a.params.str(buf.data()), b.params.str(buf.data())) << s;
    }
    Message m;
    const std::string two = "SIP/2.0 200 OK\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport,SIP/2.0/UDP 192.0.2.2\r\n"
                            "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n";
    ASSERT_EQ(run(two, m).st, ParseStatus::ok);
    EXPECT_EQ(m.via_count, 2);
    EXPECT_EQ(m.top_via.branch.str(two.data()), "z9hG4bK1");
    EXPECT_TRUE(m.top_via.has_rport);
    EXPECT_EQ(m.top_via.all.str(two.data()), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport");
    const std::string one = "SIP/2.0 200 OK\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
                            "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n";
    ASSERT_EQ(run(one, m).st, ParseStatus::ok);
    EXPECT_EQ(m.via_count, 2);
    EXPECT_EQ(m.top_via.branch.str(one.data()), "z9hG4bK1");
}

}  // namespace
}  // namespace sipedge::sip
