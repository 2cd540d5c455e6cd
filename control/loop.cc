#include "control/loop.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "control/dns_link.h"
#include "control/socket.h"

namespace sipedge::ctl {

int run_control_loop(Controller& ctl, const LoopOptions& opt, const std::function<void()>& on_tick,
                     const std::function<void(SocketServer&)>& on_open) {
    const char* prog = opt.prog.c_str();
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    // Blocked in this thread only: EAL threads started earlier keep their mask,
    // and the signals are taken from the signalfd.
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);
    const int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (sfd < 0 || tfd < 0) {
        std::fprintf(stderr, "%s: signalfd/timerfd: %s\n", prog, std::strerror(errno));
        if (sfd >= 0) close(sfd);
        if (tfd >= 0) close(tfd);
        return 1;
    }
    const uint32_t tick = opt.tick_ms == 0 ? 1 : (opt.tick_ms > 1000 ? 1000 : opt.tick_ms);
    itimerspec its{};
    its.it_interval.tv_sec = tick / 1000;
    its.it_interval.tv_nsec = long(tick % 1000) * 1000000L;
    its.it_value = its.it_interval;
    timerfd_settime(tfd, 0, &its, nullptr);

    SocketOptions so;
    so.path = opt.socket_path;
    so.group = opt.socket_group;
    so.idle_ms = opt.socket_idle_ms;
    auto srv = SocketServer::open(so, [&](std::string_view line) {
        std::string reply = ctl.execute(line);
        if (opt.verbose) std::fprintf(stderr, "ctl: %s -> %.60s\n", redact(line).c_str(), reply.c_str());
        return reply;
    });
    if (!srv) {
        std::fprintf(stderr, "%s: %s\n", prog, srv.error().message.c_str());
        close(sfd);
        close(tfd);
        return 1;
    }
    SocketServer& s = *srv.value();
    ctl.monitor().bind(&s);  // `monitor events|trace` subscribers (control/monitor.h)
    struct Unbind {
        Controller& c;
        ~Unbind() { c.monitor().bind(nullptr); }
    } unbind{ctl};
    const auto t0 = std::chrono::steady_clock::now();
    s.watch(sfd, [&] {
        signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == ssize_t(sizeof si)) s.stop();
    });
    s.watch(tfd, [&] {
        uint64_t n;
        while (read(tfd, &n, sizeof n) == ssize_t(sizeof n)) {}
        on_tick();
        if (opt.run_ms) {
            const auto ran = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0);
            if (uint64_t(ran.count()) >= opt.run_ms) s.stop();
        }
    });
    if (on_open) on_open(s);
    // The resolver for trunk servers given as host names (control/dns_link.h):
    // its sockets and timer behind one epoll fd in this loop.
    std::unique_ptr<DnsLink> dns;
    if (auto d = DnsLink::create(ctl); d) {
        dns = std::move(d.value());
        s.watch(dns->fd(), [&] { dns->on_ready(); });
    } else {
        std::fprintf(stderr, "%s: dns: %s (host names stay unresolved)\n", prog, d.error().message.c_str());
    }
    std::fprintf(stderr, "%s: listening on %s (%zu trunks)\n", prog, opt.socket_path.c_str(),
                 ctl.state().trunks.size());
    const Status r = s.run();
    close(sfd);
    close(tfd);
    if (!r) {
        std::fprintf(stderr, "%s: %s\n", prog, r.error().message.c_str());
        return 1;
    }
    return 0;
}

}  // namespace sipedge::ctl
