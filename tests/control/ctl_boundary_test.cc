// The control socket and its command parser as a security boundary (issue
// 16): every reply is valid UTF-8 JSON whatever bytes were sent, one reply
// per line (empty ones included), a per-uid connection cap beside the global
// one, an idle timeout for clients that send nothing, a bounded per-client
// output that never stalls other clients, one number grammar for every knob
// and numeric argument, IPv4 hosts that must be valid, lcores lists and
// sipedge --check, and a bad startup line refused with its line number.
// Unix sockets in a temporary directory; the longest test waits ~0.6 s for
// an idle timeout.

#include <gtest/gtest.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "control/commands.h"
#include "control/config.h"
#include "control/json.h"
#include "control/knob_table.h"
#include "control/number.h"
#include "control/socket.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::error_of;
using test::status_of;
using SteadyClock = std::chrono::steady_clock;

// ---- helpers ---------------------------------------------------------------------------

// Well-formed UTF-8 checked by decoding (not by json.cc's table): the code
// point a sequence carries must need exactly that many bytes, must not be a
// surrogate and must not pass U+10FFFF.
bool strict_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        size_t n;
        uint32_t cp;
        if (b0 < 0x80) n = 1, cp = b0;
        else if ((b0 & 0xe0) == 0xc0) n = 2, cp = b0 & 0x1f;
        else if ((b0 & 0xf0) == 0xe0) n = 3, cp = b0 & 0x0f;
        else if ((b0 & 0xf8) == 0xf0) n = 4, cp = b0 & 0x07;
        else return false;
        if (i + n > s.size()) return false;
        for (size_t k = 1; k < n; k++) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xc0) != 0x80) return false;
            cp = cp << 6 | (b & 0x3f);
        }
        static const uint32_t min_for[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
        i += n;
    }
    return true;
}

// One reply line as a strict client would take it: UTF-8, no raw control
// bytes, one JSON object with a numeric status and a data or error member.
::testing::AssertionResult strict_reply(const std::string& line) {
    if (!strict_utf8(line)) return ::testing::AssertionFailure() << "not UTF-8: " << line;
    for (const char c : line)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return ::testing::AssertionFailure() << "raw control byte in: " << line;
    auto j = Json::parse(line);
    if (!j) return ::testing::AssertionFailure() << j.error().message << ": " << line;
    const Json& r = j.value();
    if (!r.is_object() || !r.get("status") || !r.get("status")->is_number())
        return ::testing::AssertionFailure() << "no status: " << line;
    const bool ok = r.get("status")->as_int() == 0;
    if (ok ? !r.get("data") : !(r.get("error") && r.get("error")->is_string()))
        return ::testing::AssertionFailure() << "no data/error: " << line;
    return ::testing::AssertionSuccess();
}

bool send_str(int fd, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += size_t(n);
    }
    return true;
}

// Reads lines until <n> arrived, EOF, or the 5 s receive timeout.
std::vector<std::string> lines_n(int fd, size_t n, std::string& buf) {
    std::vector<std::string> out;
    char b[65536];
    for (;;) {
        size_t nl;
        while (out.size() < n && (nl = buf.find('\n')) != std::string::npos) {
            out.push_back(buf.substr(0, nl));
            buf.erase(0, nl + 1);
        }
        if (out.size() >= n) return out;
        const ssize_t r = recv(fd, b, sizeof b, 0);
        if (r <= 0) return out;
        buf.append(b, size_t(r));
    }
}
std::vector<std::string> lines_n(int fd, size_t n) {
    std::string buf;
    return lines_n(fd, n, buf);
}

// Reads to the end: the lines, and whether the peer closed (EOF or reset)
// rather than the 5 s timeout running out.
struct Drained {
    std::vector<std::string> lines;
    bool closed = false;
};
Drained drain(int fd) {
    Drained d;
    std::string buf;
    char b[65536];
    for (;;) {
        const ssize_t r = recv(fd, b, sizeof b, 0);
        if (r > 0) {
            buf.append(b, size_t(r));
            continue;
        }
        d.closed = r == 0 || errno == ECONNRESET;
        break;
    }
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
        d.lines.push_back(buf.substr(0, nl));
        buf.erase(0, nl + 1);
    }
    return d;
}

int64_t ms_since(SteadyClock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0).count();
}

// A Controller served on a socket on its own thread; the handler <make>
// returns (default: Controller::execute) runs on that thread only.
struct Served {
    test::TempDir dir;
    failover::Millis now = 0;
    Controller ctl{test::manual_clock(&now)};
    std::unique_ptr<SocketServer> srv;
    std::thread th;
    int stop_pipe[2] = {-1, -1};

    explicit Served(SocketOptions o = {}, std::function<SocketServer::Handler(Served*)> make = {}) {
        if (o.path.empty()) o.path = dir.file("ctl.sock");
        SocketServer::Handler h = make ? make(this) : [this](std::string_view l) { return ctl.execute(l); };
        auto r = SocketServer::open(o, std::move(h));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        if (!r.ok()) return;
        srv = std::move(r.value());
        EXPECT_EQ(pipe(stop_pipe), 0);
        srv->watch(stop_pipe[0], [this] { srv->stop(); });
        th = std::thread([this] { srv->run(); });
    }
    ~Served() {
        if (th.joinable()) {
            (void)!write(stop_pipe[1], "x", 1);
            th.join();
        }
        srv.reset();
        if (stop_pipe[0] >= 0) close(stop_pipe[0]);
        if (stop_pipe[1] >= 0) close(stop_pipe[1]);
    }
    std::string path() const { return srv ? srv->path() : ""; }
};

// "show trunks" on <fd>: whether a status 0 reply came back.
bool served(int fd) {
    if (!send_str(fd, "show trunks\n")) return false;
    const auto l = lines_n(fd, 1);
    return l.size() == 1 && strict_reply(l[0]) && l[0].rfind("{\"status\":0,", 0) == 0;
}

// ---- 1. replies are valid UTF-8 JSON, one per line ------------------------------------------

TEST(Boundary, HostileBytesGetOneStrictJsonReplyPerLine) {
    Served s;
    ASSERT_TRUE(s.srv);
    const int fd = test::connect_to(s.path());
    ASSERT_GE(fd, 0);
    const std::vector<std::string> sent = {
        "frob\xff\xfenicate",                 // 0: bytes that are never UTF-8
        "\xc3\x28",                           // 1: lead byte, bad continuation
        "show \xed\xa0\x80",                  // 2: an encoded surrogate
        "\xf4\x90\x80\x80",                   // 3: past U+10FFFF
        "\xc0\xaf",                           // 4: overlong '/'
        std::string("sh\0ow", 5),             // 5: NUL
        "show\x01trunks",                     // 6: C0 control
        "\x7f",                               // 7: DEL
        "\x1b[31mred",                        // 8: ESC sequence
        "\"frob\\\"nicate\"",                 // 9: a quote inside the echoed word
        "\"back\\\\slash\"",                  // 10: a backslash inside the echoed word
        "caf\xc3\xa9",                        // 11: valid UTF-8, echoed unchanged
        "set trunk \"a\\\"b\" t1 100",        // 12: quote in a trunk name
        "",                                   // 13: empty line
        "\r",                                 // 14: CR only
        "  \t ",                              // 15: blanks only
        "\"unterminated",                     // 16
        "add trunk \"\\u0041\"",              // 17: unknown escape
        "set trunk x\" t1",                   // 18: quote inside a bare word
        "show trunk \"<\\t>\"",               // 19: a tab echoed
        "set trunk a t1 \"5\\r\\n0\"",        // 20: CR LF inside a quoted value
    };
    std::string batch;
    for (const std::string& l : sent) batch += l + "\n";
    ASSERT_TRUE(send_str(fd, batch));
    const auto replies = lines_n(fd, sent.size());
    ASSERT_EQ(replies.size(), sent.size()) << "one reply per line";
    for (size_t i = 0; i < replies.size(); i++) EXPECT_TRUE(strict_reply(replies[i])) << "line " << i;
    auto error = [&](size_t i) {
        auto j = Json::parse(replies.at(i));
        return j ? error_of(j.value()) : std::string("<unparsable>");
    };
    for (size_t i : {0, 1, 2, 3, 4}) EXPECT_NE(error(i).find("ill-formed UTF-8 in command at byte"), std::string::npos) << i;
    EXPECT_NE(error(0).find("at byte 5"), std::string::npos) << error(0);
    for (size_t i : {5, 6, 7, 8}) EXPECT_NE(error(i).find("control character"), std::string::npos) << i;
    // Echoed words come back byte for byte once the JSON is decoded.
    EXPECT_NE(error(9).find("unknown command 'frob\"nicate'"), std::string::npos) << replies[9];
    EXPECT_NE(error(10).find("unknown command 'back\\slash'"), std::string::npos) << replies[10];
    EXPECT_NE(error(11).find("unknown command 'caf\xc3\xa9'"), std::string::npos) << replies[11];
    EXPECT_NE(error(12).find("no trunk 'a\"b'"), std::string::npos) << replies[12];
    for (size_t i : {13, 14, 15}) EXPECT_NE(error(i).find("empty command"), std::string::npos) << i;
    EXPECT_NE(error(19).find("no trunk '<\t>'"), std::string::npos) << replies[19];
    EXPECT_NE(replies[19].find("<\\t>"), std::string::npos) << "the tab is escaped: " << replies[19];
    // The session survives all of it.
    EXPECT_TRUE(served(fd));
    close(fd);
}

TEST(Boundary, JsonQuoteReplacesIllFormedUtf8) {
    struct Case {
        std::string in, out;
    } cases[] = {
        {"a\xff" "b", "\"a\\ufffdb\""},
        {"\xe0\x80", "\"\\ufffd\\ufffd\""},              // E0 needs A0-BF next: two subparts
        {"\xf0\x9f\x98", "\"\\ufffd\""},                 // truncated 4-byte: one subpart
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},   // surrogate D800
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},              // overlong
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},  // é € 😀 kept
        {std::string("\x01\x7f\"\\\0", 5), "\"\\u0001\\u007f\\\"\\\\\\u0000\""},
    };
    for (const Case& c : cases) {
        std::string q;
        json_quote(q, c.in);
        EXPECT_EQ(q, c.out);
        EXPECT_TRUE(strict_utf8(q)) << q;
        auto back = Json::parse(q);
        ASSERT_TRUE(back.ok()) << q;
    }
    auto r = Json::parse("\"\\ufffd\"");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().as_string(), "\xef\xbf\xbd");
    // Random bytes: always a strict JSON string.
    std::mt19937 rng(16);
    for (int n = 0; n < 5000; n++) {
        std::string in(rng() % 24, '\0');
        for (char& c : in) c = char(rng() & 0xff);
        const std::string out = Json(in).dump();
        ASSERT_TRUE(strict_utf8(out)) << out;
        ASSERT_TRUE(Json::parse(out).ok()) << out;
        if (strict_utf8(in) && in.find('\0') == std::string::npos) EXPECT_EQ(Json::parse(out).value().as_string(), in);
    }
}

TEST(Boundary, JsonParseIsStrict) {
    for (const char* bad : {"\"\xff\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud800\\u0041\"", "01", "-01", "[01]",
                            "\"a\x01\"", "[1,]", "{\"a\":1,}", "\"\xed\xa0\x80\""})
        EXPECT_FALSE(Json::parse(bad).ok()) << bad;
    auto ok = Json::parse("[\"\\ud83d\\ude00\",0,-0,10]");
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok.value().items()[0].as_string(), "\xf0\x9f\x98\x80");
}

// ---- 2. one reply for every line ---------------------------------------------------------

TEST(Boundary, EmptyLinesGetAReply) {
    Served s;
    ASSERT_TRUE(s.srv);
    const int fd = test::connect_to(s.path());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_str(fd, "\n\r\n \t\nshow trunks\n\n"));
    const auto l = lines_n(fd, 5);
    ASSERT_EQ(l.size(), 5u);
    for (size_t i : {0, 1, 2, 4}) {
        auto j = Json::parse(l[i]);
        ASSERT_TRUE(j.ok()) << l[i];
        EXPECT_EQ(status_of(j.value()), EINVAL) << l[i];
        EXPECT_NE(error_of(j.value()).find("empty command"), std::string::npos) << l[i];
    }
    EXPECT_EQ(l[3].rfind("{\"status\":0,", 0), 0u) << l[3];
    close(fd);
}

// ---- 3. per-uid cap, global cap, idle timeout ---------------------------------------------

// In a child with uid/gid 65534 (nobody): connects to <path> and asks
// "show trunks". Exit 0 when answered with status 0. No allocation after
// fork (the parent has threads).
int as_nobody(const sockaddr_un& addr) {
    const pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(10);
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) _exit(11);
        timeval tv{5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        static const char cmd[] = "show trunks\n";
        if (send(fd, cmd, sizeof cmd - 1, MSG_NOSIGNAL) != ssize_t(sizeof cmd - 1)) _exit(12);
        static char buf[256];
        size_t got = 0;
        while (got < sizeof buf - 1) {
            const ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            if (n <= 0) break;
            got += size_t(n);
            if (std::memchr(buf, '\n', got)) break;
        }
        static const char want[] = "{\"status\":0,";
        _exit(got >= sizeof want - 1 && std::memcmp(buf, want, sizeof want - 1) == 0 ? 0 : 13);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(Boundary, PerUidCapAndIdleTimeout) {
    SocketOptions o;
    o.max_clients_per_uid = 4;
    o.idle_ms = 500;
    o.mode = 0666;  // the uid 65534 client below
    Served s(o);
    ASSERT_TRUE(s.srv);
    const auto t0 = SteadyClock::now();
    // Three idle clients (one half-way through a line) and one active one: the cap.
    int idle[3];
    for (int& fd : idle) {
        fd = test::connect_to(s.path());
        ASSERT_GE(fd, 0);
    }
    ASSERT_TRUE(send_str(idle[1], "show tr"));
    const int active = test::connect_to(s.path());
    ASSERT_GE(active, 0);
    ASSERT_TRUE(served(active));

    // A fifth connection of this uid is refused with one line saying why.
    const int over = test::connect_to(s.path());
    ASSERT_GE(over, 0);
    const Drained refused = drain(over);
    close(over);
    ASSERT_EQ(refused.lines.size(), 1u);
    EXPECT_TRUE(strict_reply(refused.lines[0]));
    EXPECT_NE(refused.lines[0].find("\"status\":16"), std::string::npos) << refused.lines[0];
    EXPECT_NE(refused.lines[0].find("too many control connections for uid " + std::to_string(geteuid()) + " (4)"),
              std::string::npos)
        << refused.lines[0];
    EXPECT_TRUE(refused.closed);
    EXPECT_EQ(s.srv->refused(), 1u);

    // Another uid still gets in (needs root to become uid 65534).
    if (geteuid() == 0) {
        ASSERT_EQ(chmod(s.dir.path.c_str(), 0755), 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, s.path().data(), s.path().size());
        EXPECT_EQ(as_nobody(a), 0) << "a client of another uid was not served while this uid is at its cap";
    }

    // The active client keeps talking (every 50 ms) while the idle ones are
    // closed: idleness is about traffic, not age.
    bool gone[3] = {false, false, false};
    std::string got[3];
    while (!(gone[0] && gone[1] && gone[2]) && ms_since(t0) < 5000) {
        ASSERT_TRUE(served(active)) << "the active client was closed at " << ms_since(t0) << " ms";
        for (int k = 0; k < 3; k++) {
            char b[512];
            ssize_t n = -1;
            while (!gone[k] && (n = recv(idle[k], b, sizeof b, MSG_DONTWAIT)) != 0) {
                if (n < 0) {
                    gone[k] = errno == ECONNRESET;
                    break;
                }
                got[k].append(b, size_t(n));
            }
            if (n == 0) gone[k] = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const int64_t took = ms_since(t0);
    for (int k = 0; k < 3; k++) {
        EXPECT_TRUE(gone[k]) << "idle client " << k << " still open after " << took << " ms";
        EXPECT_NE(got[k].find("{\"status\":110,\"error\":\"idle for 500 ms"), std::string::npos) << got[k];
        EXPECT_TRUE(strict_reply(got[k].substr(0, got[k].find('\n'))));
        close(idle[k]);
    }
    EXPECT_GE(took, 500) << "closed before the idle timeout";
    EXPECT_EQ(s.srv->idle_closed(), 3u);
    EXPECT_TRUE(served(active));
    // Their slots are free again.
    const int again = test::connect_to(s.path());
    ASSERT_GE(again, 0);
    EXPECT_TRUE(served(again));
    close(again);
    close(active);
}

TEST(Boundary, GlobalCapStillApplies) {
    SocketOptions o;
    o.max_clients = 2;
    o.idle_ms = 0;  // never
    Served s(o);
    ASSERT_TRUE(s.srv);
    const int a = test::connect_to(s.path()), b = test::connect_to(s.path());
    ASSERT_TRUE(a >= 0 && b >= 0);
    ASSERT_TRUE(served(a));
    ASSERT_TRUE(served(b));
    const int c = test::connect_to(s.path());
    ASSERT_GE(c, 0);
    const Drained d = drain(c);
    close(c);
    ASSERT_EQ(d.lines.size(), 1u);
    EXPECT_NE(d.lines[0].find("too many control clients (2)"), std::string::npos) << d.lines[0];
    EXPECT_TRUE(d.closed);
    EXPECT_TRUE(served(a));
    close(a);
    close(b);
}

// ---- 4. bounded output, non-blocking writes -----------------------------------------------

// "big" answers 64 KiB (a JSON string), the rest goes to the Controller.
constexpr size_t big_len = 65536;
SocketServer::Handler big_handler(Served* s) {
    return [s](std::string_view l) {
        if (l == "big") return Json(std::string(big_len, 'x')).dump();
        return s->ctl.execute(l);
    };
}

TEST(Boundary, SlowReaderNeverStallsOthersAndIsDroppedPastTheBound) {
    SocketOptions o;
    o.max_pending = 1u << 20;
    Served s(o, big_handler);
    ASSERT_TRUE(s.srv);

    // A asks for 12 x 64 KiB (under the 1 MiB bound, over what the kernel
    // buffers for a 4 KiB receive buffer) and does not read yet.
    const int a = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(a, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, s.path().data(), s.path().size());
    ASSERT_EQ(connect(a, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{5, 0};
    setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string twelve;
    for (int i = 0; i < 12; i++) twelve += "big\n";
    ASSERT_TRUE(send_str(a, twelve));

    // B is answered while A's replies wait in the server.
    const int b = test::connect_to(s.path());
    ASSERT_GE(b, 0);
    const auto tb = SteadyClock::now();
    for (int i = 0; i < 5; i++) ASSERT_TRUE(served(b)) << "B not served while A does not read";
    EXPECT_LT(ms_since(tb), 4000);

    // A then gets all twelve replies, whole and in order; nobody was dropped.
    std::string buf;
    const auto ra = lines_n(a, 12, buf);
    ASSERT_EQ(ra.size(), 12u);
    for (const std::string& l : ra) EXPECT_EQ(l.size(), big_len + 2);
    EXPECT_EQ(s.srv->clients_dropped(), 0u);

    // C asks for 200 x 64 KiB (12.5 MiB) without reading: dropped past 1 MiB.
    const int c = test::connect_to(s.path());
    ASSERT_GE(c, 0);
    std::string many;
    for (int i = 0; i < 200; i++) many += "big\n";
    ASSERT_TRUE(send_str(c, many));
    ASSERT_TRUE(served(b)) << "B not served while C floods";
    const auto t0 = SteadyClock::now();
    while (s.srv->clients_dropped() == 0 && ms_since(t0) < 5000) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(s.srv->clients_dropped(), 1u);
    const Drained dc = drain(c);
    EXPECT_TRUE(dc.closed) << "C was not closed";
    EXPECT_LT(dc.lines.size(), 200u);
    EXPECT_LE(dc.lines.size() * (big_len + 3), (1u << 20) + 2 * (big_len + 3) + 512 * 1024)
        << "more than the bound (plus kernel buffers) reached C";
    EXPECT_TRUE(served(b));
    EXPECT_TRUE(served(a));
    close(a);
    close(b);
    close(c);
}

TEST(Boundary, OneReplyLargerThanTheBoundIsDelivered) {
    SocketOptions o;
    o.max_pending = 16 * 1024;
    Served s(o, big_handler);
    ASSERT_TRUE(s.srv);
    const int fd = test::connect_to(s.path());
    ASSERT_GE(fd, 0);
    for (int round = 0; round < 3; round++) {
        ASSERT_TRUE(send_str(fd, "big\n"));
        const auto l = lines_n(fd, 1);
        ASSERT_EQ(l.size(), 1u);
        EXPECT_EQ(l[0].size(), big_len + 2);
    }
    EXPECT_EQ(s.srv->clients_dropped(), 0u);
    close(fd);
}

// ---- 5. one number grammar ----------------------------------------------------------------

TEST(Boundary, NumberGrammar) {
    struct Case {
        const char* w;
        uint64_t lo, hi;
        NumStatus st;
        uint64_t v;
    } cases[] = {
        {"0", 0, 10, NumStatus::ok, 0},
        {"10", 0, 10, NumStatus::ok, 10},
        {"11", 0, 10, NumStatus::out_of_range, 0},
        {"0", 1, 10, NumStatus::out_of_range, 0},
        {"00", 0, 10, NumStatus::not_a_number, 0},
        {"007", 0, 10, NumStatus::not_a_number, 0},
        {"-1", 0, 10, NumStatus::not_a_number, 0},
        {"+1", 0, 10, NumStatus::not_a_number, 0},
        {" 1", 0, 10, NumStatus::not_a_number, 0},
        {"1 ", 0, 10, NumStatus::not_a_number, 0},
        {"", 0, 10, NumStatus::not_a_number, 0},
        {"1e3", 0, 10000, NumStatus::not_a_number, 0},
        {"0x10", 0, 100, NumStatus::not_a_number, 0},
        {"1.0", 0, 10, NumStatus::not_a_number, 0},
        {"١", 0, 10, NumStatus::not_a_number, 0},  // ARABIC-INDIC DIGIT ONE
        {"18446744073709551615", 0, UINT64_MAX, NumStatus::ok, UINT64_MAX},
        {"18446744073709551616", 0, UINT64_MAX, NumStatus::out_of_range, 0},
        {"99999999999999999999999999", 0, UINT64_MAX, NumStatus::out_of_range, 0},
        {"99999999999999999999999999x", 0, UINT64_MAX, NumStatus::not_a_number, 0},
    };
    for (const Case& c : cases) {
        uint64_t v = 12345;
        EXPECT_EQ(parse_number(c.w, c.lo, c.hi, v), c.st) << "'" << c.w << "'";
        EXPECT_EQ(v, c.st == NumStatus::ok ? c.v : 12345u) << "'" << c.w << "'";
    }
    auto nan = number_arg("vlan", "01", 1, 4094);
    ASSERT_FALSE(nan.ok());
    EXPECT_EQ(nan.error().message, "vlan: '01' is not a number (decimal digits only: no sign, blank or leading zero)");
    auto big = number_arg("vlan", "4095", 1, 4094);
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().message, "vlan: 4095 is out of range 1-4094");
    uint32_t ip = 0;
    EXPECT_TRUE(parse_ipv4("192.0.2.255", ip));
    EXPECT_EQ(ip, 0xc00002ffu);
    for (const char* bad : {"192.0.2.256", "999.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3",
                            "1.2.3.4.", " 1.2.3.4", "1.2.3.-4", "1.2.3.+4", "0x1.2.3.4"})
        EXPECT_FALSE(parse_ipv4(bad, ip)) << bad;
}

// Every numeric knob refuses a leading zero, a sign and blanks, with the same words.
TEST(Boundary, EveryNumericKnobUsesTheGrammar) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    ASSERT_EQ(status_of(c.execute_json("add trunk t")), 0);
    const State before = c.state();
    auto refused = [&](const std::string& line) {
        const Json r = c.execute_json(line);
        EXPECT_EQ(status_of(r), EINVAL) << line << " → " << r.dump();
        EXPECT_NE(error_of(r).find("is not a number (decimal digits only"), std::string::npos) << line << " → " << r.dump();
        EXPECT_TRUE(c.state() == before) << line;
    };
    size_t checked = 0;
    auto values = [](uint32_t min, uint32_t max) {
        return std::vector<std::string>{"0" + std::to_string(max), "+" + std::to_string(min), "-" + std::to_string(max),
                                        "\"" + std::to_string(min) + " \"", "\" " + std::to_string(max) + "\"",
                                        std::to_string(min) + ".0", "0x" + std::to_string(min)};
    };
    for (const TrunkKnob& k : trunk_knobs()) {
        std::vector<std::string> lines;
        const std::string pre = std::string("set trunk t ") + k.key + " ";
        if (k.kind == KnobKind::uint || k.kind == KnobKind::recover_delay)
            for (const std::string& v : values(k.min, k.max)) lines.push_back(pre + v);
        if (k.kind == KnobKind::recover_delay) lines.push_back(pre + "10 020");
        if (k.kind == KnobKind::threshold)
            for (const std::string& v : values(5, 90)) {
                lines.push_back(pre + "absolute " + v);
                lines.push_back(pre + "percentage " + v);
            }
        for (const std::string& l : lines) refused(l);
        checked += !lines.empty();
    }
    for (const GlobalKnob& k : global_knobs())
        if (k.kind == KnobKind::uint) {
            for (const std::string& v : values(k.min, k.max)) refused(std::string("set global ") + k.key + " " + v);
            checked++;
        }
    EXPECT_GT(checked, 30u);
}

// Numeric command arguments and IPv4 hosts: the same grammar, a clear error,
// nothing changed.
TEST(Boundary, NumericArgumentsAndHostsRefused) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    for (const char* l : {"add trunk acme", "set trunk acme server 1 192.0.2.10", "set dataplane address 192.0.2.10/24"})
        ASSERT_EQ(status_of(c.execute_json(l)), 0) << l;
    const State before = c.state();
    struct Row {
        const char* line;
        const char* error;
    } rows[] = {
        {"set dataplane lcores -1", "lcores: '-1' is not a list of cores like 0-2 or 0,2,4 (cores 0-127): '-1' is not a core number or a range <a>-<b>"},
        {"set dataplane lcores 0-999999", "core 999999 is out of range 0-127"},
        {"set dataplane lcores 0-128", "core 128 is out of range 0-127"},
        {"set dataplane lcores 00-2", "'00-2' is not a core number"},
        {"set dataplane lcores 2-1", "range 2-1 is descending"},
        {"set dataplane lcores 0-2,1", "core 1 is listed twice"},
        {"set dataplane lcores 0-2,", "'' is not a core number"},
        {"set dataplane lcores 0--2", "is not a core number"},
        {"set dataplane lcores +1", "is not a core number"},
        {"set dataplane vlan 0100", "vlan: '0100' is not a number"},
        {"set dataplane sip-port 05060", "sip-port: '05060' is not a number"},
        {"set dataplane memory 0512", "is not a number"},
        {"set dataplane timer-c 0181", "is not a number"},
        {"set dataplane retry-after -0", "is not a number"},
        {"set dataplane port 01 vlan 5", "port: '01' is not a number"},
        {"set dataplane address 192.0.2.010/24", "is not an IPv4 address/prefix"},
        {"set dataplane address 192.0.2.10/024", "address prefix: '024' is not a number"},
        {"set dataplane gateway 192.0.2.01", "is not an IPv4 address"},
        {"set dataplane access 198.51.100.7:05062", "access port: '05062' is not a number"},
        {"set dataplane access 256.51.100.7", "is not an IPv4 address"},
        {"set trunk acme server 01 192.0.2.1", "number 1-16"},
        {"set trunk acme server 1 192.0.2.1:05060", "server: port: '05060' is not a number"},
        {"set trunk acme server 1 192.0.2.1:+5060", "is not a number"},
        {"set trunk acme server 1 999.1.1.1", "'999.1.1.1' is not a valid IPv4 address"},
        {"set trunk acme server 1 1.2.3", "'1.2.3' is not a valid IPv4 address"},
        {"set trunk acme server 1 010.0.0.1", "'010.0.0.1' is not a valid IPv4 address"},
        {"set trunk acme server 1 192.0.2.1.", "is not a valid IPv4 address"},
        {"set trunk acme server 1 12345", "'12345' is not a valid IPv4 address"},
        {"set trunk acme server 1 carrier.123:5060", "'carrier.123' is not a valid IPv4 address"},
        {"set trunk acme domain 256.0.0.1", "domain: '256.0.0.1' is not a valid IPv4 address"},
        {"set trunk acme maintenance-address 10.0.0.01 on", "is not a valid IPv4 address"},
        {"set dns-cache a 01 sip.example.com 192.0.2.20", "is not a number"},
        {"set dns-cache a 1 sip.example.com 192.0.2.20 ttl 0300", "is not a number"},
        {"set dns-cache srv 1 _sip._udp.example.com 010 60 5060 sip1.example.com", "priority: '010' is not a number"},
        {"set global dns-server 192.0.2.53:053", "dns-server: port: '053' is not a number"},
        {"set global dns-server 192.0.2.053", "is not an IP address"},
        {"set global metrics-http 127.0.0.1:09100", "port: '09100' is not a number"},
        {"route-pattern 01 digits 12 trunk acme", "route-pattern id: '01' is not a number"},
        {"route-pattern 2 digits 12 trunk acme priority 010", "priority: '010' is not a number"},
        {"route-pattern 2 digits 12 trunk acme source 10.0.0.0/08", "len 0-32, no leading zeros"},
        {"route-pattern 2 digits 12 trunk acme source 010.0.0.0/8", "expected an IPv4 prefix"},
        {"inbound-pattern 2 digits 12 target 192.0.2.1:05060", "target port: '05060' is not a number"},
        {"inbound-pattern 2 digits 12 target 192.0.2.01:5060", "expected <ipv4>:<port>"},
        {"show events 05", "event count: '05' is not a number"},
        {"show events -1", "is not a number"},
        {"del trunk acme server 01", "number 1-16"},
    };
    for (const Row& r : rows) {
        const Json j = c.execute_json(r.line);
        EXPECT_NE(status_of(j), 0) << r.line;
        EXPECT_NE(error_of(j).find(r.error), std::string::npos) << r.line << " → " << j.dump();
        EXPECT_TRUE(c.state() == before) << "refused command changed the state: " << r.line;
    }
    // What the grammar accepts.
    for (const char* l : {"set dataplane lcores 0-2,4,6-7", "set dataplane lcores 0", "set dataplane vlan 100",
                          "set trunk acme server 2 192.0.2.1:0", "set trunk acme server 3 carrier.example:5060",
                          "set trunk acme server 4 10.0.0.1", "set trunk acme t1 500", "set trunk acme retry-timeout 0",
                          "set dns-cache a 1 sip.example.com 192.0.2.20 ttl 0", "show events 1",
                          "route-pattern 2 digits 12 trunk acme source 10.0.0.0/8 priority 0"}) {
        const Json j = c.execute_json(l);
        EXPECT_EQ(status_of(j), 0) << l << " → " << j.dump();
    }
}

// ---- lcores and sipedge --check ---------------------------------------------------------

TEST(Boundary, LcoreListAndHostCheck) {
    auto l = dataplane_lcore_list("4,0-2,7");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l.value(), (std::vector<unsigned>{0, 1, 2, 4, 7}));
    DataplaneSettings d;
    d.ports[0].ip = 0xc000020a;
    d.ports[0].prefix = 24;
    const std::vector<unsigned> cpus = {0, 1, 2, 3};
    d.lcores = "0-3";
    EXPECT_TRUE(dataplane_check_host(d, cpus).ok());
    d.lcores = "";
    EXPECT_TRUE(dataplane_check_host(d, cpus).ok()) << "no lcores: the command line's";
    d.lcores = "0-4";
    auto s = dataplane_check_host(d, cpus);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ENODEV);
    EXPECT_NE(s.error().message.find("core 4 of 0-4 is not available on this machine"), std::string::npos)
        << s.error().message;
    d.lcores = "2";
    EXPECT_NE(dataplane_check_host(d, cpus).error().message.find("names one core"), std::string::npos);
    d.lcores = "0-1";
    for (const char* dev : {"net_af_packet0,iface=veth0,qpairs=2", "0000:03:00.0", "03:00.1,txq_inline=0", "net_ring0"}) {
        d.ports[0].device = dev;
        EXPECT_TRUE(dataplane_check_host(d, cpus).ok()) << dev;
    }
    for (const char* dev : {"net_af_packet", "net_0", "net_Tap0", "net_tap01", "net_tap0,=x", "net_tap0,a b=1",
                            "net_tap0,,x=1"}) {
        d.ports[0].device = dev;
        EXPECT_FALSE(dataplane_check_host(d, cpus).ok()) << dev;
    }
    d.ports[0].device.clear();
    d.ports[1].vlan = 5;
    EXPECT_NE(dataplane_check_host(d, cpus).error().message.find("port 1 has a gateway or VLAN but no address"),
              std::string::npos);
    d.ports[1].vlan = 0;
    d.ports[0].ip = 0;
    EXPECT_NE(dataplane_check_host(d, cpus).error().message.find("no 'set dataplane address"), std::string::npos);
}

#ifdef SIPEDGE_BIN
// sipedge --check <config>: exit status and the combined output.
std::pair<int, std::string> sipedge_check(const std::string& config) {
    const std::string cmd = std::string(SIPEDGE_BIN) + " --check --config " + config + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return {-1, ""};
    std::string out;
    char b[4096];
    size_t n;
    while ((n = fread(b, 1, sizeof b, p)) > 0) out.append(b, n);
    const int st = pclose(p);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

TEST(Boundary, SipedgeCheckVerifiesLcoresOnThisMachine) {
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    std::vector<unsigned> mine;
    for (unsigned c = 0; c < dataplane_max_lcores; c++)
        if (CPU_ISSET(c, &set)) mine.push_back(c);
    if (mine.size() >= dataplane_max_lcores) GTEST_SKIP() << "every lcore id is available here";
    test::TempDir dir;
    const std::string base = "set dataplane address 192.0.2.10/24\n";
    dir.write("all.conf", base + "set dataplane lcores 0-" + std::to_string(dataplane_max_lcores - 1) + "\n");
    auto [rc, out] = sipedge_check(dir.file("all.conf"));
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("is not available on this machine"), std::string::npos) << out;
    if (mine.size() >= 2) {
        dir.write("mine.conf", base + "set dataplane lcores " + std::to_string(mine[0]) + "," + std::to_string(mine[1]) + "\n");
        auto [rc2, out2] = sipedge_check(dir.file("mine.conf"));
        EXPECT_EQ(rc2, 0) << out2;
        EXPECT_NE(out2.find("set dataplane lcores"), std::string::npos) << out2;
    }
    dir.write("noaddr.conf", "add trunk a\n");
    auto [rc3, out3] = sipedge_check(dir.file("noaddr.conf"));
    EXPECT_EQ(rc3, 1) << out3;
    EXPECT_NE(out3.find("no 'set dataplane address"), std::string::npos) << out3;
}
#endif

// ---- 6. a bad startup line: its line number, nothing applied ----------------------------------

TEST(Boundary, BadConfigLineRefusedWithLineNumberRunningConfigStays) {
    test::TempDir dir;
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    ASSERT_TRUE(c.apply_lines({"add trunk live", "set trunk live server 1 192.0.2.10", "set trunk live t1 700"}, "boot").ok());
    const State before = c.state();
    const std::vector<std::string> running = c.running_config();
    struct Bad {
        std::string text;
        int line;
        const char* error;
    } bads[] = {
        {"add trunk a\nset trunk a server 1 192.0.2.1\nset trunk a t1 0500\n", 3, "t1: '0500' is not a number"},
        {"add trunk a\nset trunk a server 1 999.1.1.1\n", 2, "is not a valid IPv4 address"},
        {"# lcores\n\nset dataplane lcores 0-999999\n", 3, "core 999999 is out of range 0-127"},
        {"add trunk a\nadd trunk caf\xe9\n", 2, "ill-formed UTF-8 in command at byte 14"},
        {"add trunk a\nset trunk live t1 -1\n", 2, "is not a number"},
        {"set global dns-restore-ttl 0100\n", 1, "dns-restore-ttl: '0100' is not a number"},
    };
    for (const Bad& b : bads) {
        dir.write("bad.conf", b.text);
        Status s = load_config_file(c, dir.file("bad.conf"));
        ASSERT_FALSE(s.ok()) << b.text;
        const std::string want = dir.file("bad.conf") + ":" + std::to_string(b.line) + ": ";
        EXPECT_EQ(s.error().message.rfind(want, 0), 0u) << s.error().message;
        EXPECT_NE(s.error().message.find(b.error), std::string::npos) << s.error().message;
        EXPECT_TRUE(c.state() == before) << b.text;
        EXPECT_EQ(c.running_config(), running) << b.text;
    }
    EXPECT_EQ(c.state().trunks.at("live").knobs.t1_ms, 700u);
}

}  // namespace
}  // namespace sipedge::ctl
