#include "tests/dns/knot_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sipedge::dns::testing {
namespace {

bool in_path(const char* prog) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    p += ":/usr/sbin:/sbin";
    std::stringstream ss(p);
    std::string dir;
    while (std::getline(ss, dir, ':'))
        if (!dir.empty() && access((dir + "/" + prog).c_str(), X_OK) == 0)
            return true;
    return false;
}

// A port free for both UDP and TCP on <addr>, chosen by the kernel (> 1024).
uint16_t free_port(const std::string& addr) {
    for (int attempt = 0; attempt < 20; attempt++) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        if (u < 0)
            return 0;
        socklen_t len = sizeof(sa);
        if (bind(u, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
            getsockname(u, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
            close(u);
            return 0;
        }
        int t = socket(AF_INET, SOCK_STREAM, 0);
        const bool tcp_ok = t >= 0 && bind(t, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
        if (t >= 0)
            close(t);
        close(u);
        const uint16_t port = ntohs(sa.sin_port);
        if (tcp_ok && port > 1024)
            return port;
    }
    return 0;
}

bool tcp_connects(const std::string& addr, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return false;
    const bool ok = connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
    close(s);
    return ok;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
    const pid_t pid = fork();
    if (pid != 0)
        return pid;
    // If the test process dies (a crash, a timeout kill), the server goes too.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    std::vector<char*> args;
    for (const std::string& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
}

bool wait_exit(pid_t pid, int ms, int* status) {
    for (int waited = 0; waited <= ms; waited += 10) {
        const pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0)
            return errno == ECHILD;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace

bool KnotServer::available() { return in_path("knotd") && in_path("knotc"); }

std::unique_ptr<KnotServer> KnotServer::start(const std::string& addr,
                                              const std::map<std::string, std::string>& zones,
                                              std::string* err) {
    in_addr ia{};
    if (inet_pton(AF_INET, addr.c_str(), &ia) != 1 || (ntohl(ia.s_addr) >> 24) != 127) {
        *err = "knot test server must listen on 127.0.0.0/8";
        return nullptr;
    }
    std::unique_ptr<KnotServer> k(new KnotServer());
    char tmpl[] = "/tmp/sipedge-knot.XXXXXX";
    if (!mkdtemp(tmpl)) {
        *err = "mkdtemp failed";
        return nullptr;
    }
    k->dir_ = tmpl;
    k->addr_ = addr;
    k->port_ = free_port(addr);
    if (k->port_ == 0) {
        *err = "no free port on " + addr;
        return nullptr;
    }
    if (!k->write_files(zones)) {
        *err = "cannot write config or zones in " + k->dir_;
        return nullptr;
    }
    if (!k->launch(err))
        return nullptr;
    return k;
}

bool KnotServer::write_files(const std::map<std::string, std::string>& zones) {
    conf_ = dir_ + "/knot.conf";
    std::ofstream c(conf_);
    // One worker of each kind: the tests need little, and the machine is shared.
    c << "server:\n"
      << "    rundir: \"" << dir_ << "\"\n"
      << "    listen: " << addr_ << "@" << port_ << "\n"
      << "    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n"
      << "database:\n    storage: \"" << dir_ << "\"\n"
      << "log:\n  - target: stderr\n    any: info\n"
      << "template:\n  - id: default\n    storage: \"" << dir_ << "\"\n"
      << "    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n"
      << "    semantic-checks: off\n"
      << "zone:\n";
    for (const auto& [origin, text] : zones) {
        c << "  - domain: " << origin << "\n";
        std::ofstream z(dir_ + "/" + origin + ".zone");
        z << text;
        if (!z)
            return false;
        origins_.push_back(origin);
    }
    return bool(c);
}

bool KnotServer::launch(std::string* err) {
    pid_ = spawn({"knotd", "-c", conf_}, dir_ + "/knot.log");
    if (pid_ < 0) {
        *err = "fork failed";
        return false;
    }
    // Ready when it accepts TCP on its address (it binds UDP at the same
    // time) and its control socket takes a blocking reload: knotd answers
    // before its zones are loaded (SERVFAIL meanwhile), and the reload returns
    // once every zone is in.
    for (int waited = 0; waited < 10000; waited += 20) {
        if (tcp_connects(addr_, port_) && knotc({"-b", "zone-reload"}) == 0)
            return true;
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            *err = "knotd exited: " + log();
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    *err = "knotd did not start: " + log();
    stop();
    return false;
}

int KnotServer::knotc(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"knotc", "-c", conf_, "-t", "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = spawn(argv, dir_ + "/knotc.log");
    int st = 0;
    if (pid < 0)
        return -1;
    if (!wait_exit(pid, 10000, &st)) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool KnotServer::update_zone(const std::string& origin, const std::string& text) {
    {
        std::ofstream z(dir_ + "/" + origin + ".zone", std::ios::trunc);
        z << text;
        if (!z)
            return false;
    }
    return knotc({"-b", "zone-reload", origin}) == 0;
}

bool KnotServer::expire_zone(const std::string& origin) {
    return knotc({"-b", "-f", "zone-purge", "+expire", origin}) == 0;
}

void KnotServer::pause() {
    if (pid_ > 0)
        kill(pid_, SIGSTOP);
}

void KnotServer::resume() {
    if (pid_ > 0)
        kill(pid_, SIGCONT);
}

void KnotServer::stop() {
    if (pid_ <= 0)
        return;
    kill(pid_, SIGCONT);
    kill(pid_, SIGTERM);
    int st = 0;
    if (!wait_exit(pid_, 5000, &st)) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
    }
    pid_ = -1;
}

std::string KnotServer::log() const {
    std::ifstream f(dir_ + "/knot.log");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

KnotServer::~KnotServer() {
    stop();
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

}  // namespace sipedge::dns::testing
