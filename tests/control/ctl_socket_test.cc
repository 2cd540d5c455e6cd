// The control socket: mode 0660 and group, atomic creation, a live socket is
// not stolen, several commands on one connection get one JSON line each
// (empty lines included), concurrent clients, partial lines and over-long
// lines. Unix sockets only. Caps, idle timeout and the output bound:
// ctl_boundary_test.cc.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "control/socket.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::connect_to;

bool send_all(int fd, const std::string& s) {
    return send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size());
}

// Reads until <n> newline-terminated lines have arrived (or EOF/timeout).
std::vector<std::string> read_lines_n(int fd, size_t n) {
    std::vector<std::string> out;
    std::string buf;
    char b[4096];
    while (out.size() < n) {
        const ssize_t r = recv(fd, b, sizeof b, 0);
        if (r <= 0) break;
        buf.append(b, size_t(r));
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            out.push_back(buf.substr(0, nl));
            buf.erase(0, nl + 1);
        }
    }
    return out;
}

// A controller and a socket server on a thread; stop() from a pipe.
struct Served {
    test::TempDir dir;
    failover::Millis now = 0;
    Controller ctl{test::manual_clock(&now)};
    std::unique_ptr<SocketServer> srv;
    std::thread th;
    int stop_pipe[2] = {-1, -1};

    explicit Served(SocketOptions o = {}) {
        if (o.path.empty()) o.path = dir.file("ctl.sock");
        auto r = SocketServer::open(o, [this](std::string_view l) { return ctl.execute(l); });
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

TEST(Socket, ModeAndGroup) {
    SocketOptions o;
    test::TempDir d;
    o.path = d.file("perm.sock");
    o.group = std::to_string(getegid());
    Served s(o);
    ASSERT_TRUE(s.srv);
    struct stat st{};
    ASSERT_EQ(lstat(s.path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_EQ(st.st_gid, getegid());
    if (geteuid() == 0) {
        EXPECT_EQ(st.st_uid, 0u);
    }
    // No temporary name is left behind.
    EXPECT_NE(access((s.path() + ".tmp." + std::to_string(getpid())).c_str(), F_OK), 0);
}

TEST(Socket, UnknownGroupRefused) {
    test::TempDir d;
    SocketOptions o;
    o.path = d.file("g.sock");
    o.group = "no-such-group-sipedge";
    auto r = SocketServer::open(o, [](std::string_view) { return std::string(); });
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("no-such-group-sipedge"), std::string::npos);
    EXPECT_NE(access(o.path.c_str(), F_OK), 0);
}

TEST(Socket, SeveralCommandsOneJsonLineEach) {
    Served s;
    ASSERT_TRUE(s.srv);
    const int fd = connect_to(s.path());
    ASSERT_GE(fd, 0);
    // Sent in one write, with a line split across two writes and a CRLF.
    ASSERT_TRUE(send_all(fd, "add trunk a\nset trunk a t1 20\nshow trunks\nset trunk a se"));
    // The empty line gets its own reply too ("empty command").
    ASSERT_TRUE(send_all(fd, "rver 1 192.0.2.1\r\n\nbogus\n"));
    const auto lines = read_lines_n(fd, 6);
    ASSERT_EQ(lines.size(), 6u);
    const int want[] = {0, EINVAL, 0, 0, EINVAL, EINVAL};
    for (size_t i = 0; i < lines.size(); i++) {
        auto j = Json::parse(lines[i]);
        ASSERT_TRUE(j.ok()) << lines[i];
        EXPECT_EQ(test::status_of(j.value()), want[i]) << lines[i];
    }
    EXPECT_NE(lines[1].find("seed A: ip sip timer T1"), std::string::npos);
    EXPECT_NE(lines[4].find("empty command"), std::string::npos) << lines[4];
    EXPECT_NE(lines[5].find("unknown command 'bogus'"), std::string::npos) << lines[5];
    // A last line without a newline is served at EOF.
    ASSERT_TRUE(send_all(fd, "show trunk a"));
    shutdown(fd, SHUT_WR);
    const auto last = read_lines_n(fd, 2);
    ASSERT_EQ(last.size(), 1u);
    EXPECT_NE(last[0].find("\"192.0.2.1\""), std::string::npos);
    close(fd);
}

TEST(Socket, OverlongLineRefusedAndClosed) {
    SocketOptions o;
    test::TempDir d;
    o.path = d.file("long.sock");
    o.max_line = 1024;
    Served s(o);
    ASSERT_TRUE(s.srv);
    const int fd = connect_to(s.path());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, std::string(4096, 'x')));
    const auto lines = read_lines_n(fd, 2);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("line longer than 1024"), std::string::npos);
    close(fd);
}

TEST(Socket, ConcurrentClients) {
    Served s;
    ASSERT_TRUE(s.srv);
    constexpr int clients = 8, per = 50;
    std::atomic<int> good{0};
    std::vector<std::thread> ts;
    for (int c = 0; c < clients; c++)
        ts.emplace_back([&, c] {
            const int fd = connect_to(s.path());
            if (fd < 0) return;
            const std::string name = "t" + std::to_string(c);
            std::string batch = "add trunk " + name + "\n";
            for (int i = 0; i < per; i++) batch += "set trunk " + name + " t1 " + std::to_string(100 + i) + "\n";
            if (!send_all(fd, batch)) return;
            const auto lines = read_lines_n(fd, per + 1);
            int ok = 0;
            for (const std::string& l : lines) ok += l == "{\"status\":0,\"data\":null}";
            if (ok == per + 1) good++;
            close(fd);
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(good.load(), clients);
    const int fd = connect_to(s.path());
    ASSERT_TRUE(send_all(fd, "show trunks\n"));
    const auto l = read_lines_n(fd, 1);
    ASSERT_EQ(l.size(), 1u);
    auto j = Json::parse(l[0]);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(j.value().get("data")->size(), size_t(clients));
    close(fd);
}

TEST(Socket, LiveSocketNotStolenStaleReplaced) {
    Served s;
    ASSERT_TRUE(s.srv);
    SocketOptions o;
    o.path = s.path();
    auto second = SocketServer::open(o, [](std::string_view) { return std::string(); });
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, EADDRINUSE);
    // Still served by the first.
    const int fd = connect_to(s.path());
    ASSERT_GE(fd, 0);
    close(fd);

    // A stale socket file (nobody listening) is replaced.
    test::TempDir d;
    const std::string stale = d.file("stale.sock");
    {
        const int l = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, stale.data(), stale.size());
        ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        close(l);  // file stays, nobody listens
    }
    o.path = stale;
    auto r = SocketServer::open(o, [](std::string_view) { return std::string("{}"); });
    ASSERT_TRUE(r.ok()) << r.error().message;
    // A regular file is never replaced.
    const std::string plain = d.file("plain");
    d.write("plain", "x");
    o.path = plain;
    auto p = SocketServer::open(o, [](std::string_view) { return std::string(); });
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("not a socket"), std::string::npos);
    // Closing the server removes its socket file.
    r.value().reset();
    EXPECT_NE(access(stale.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace sipedge::ctl
