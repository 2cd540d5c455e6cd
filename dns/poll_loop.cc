#include "dns/poll_loop.h"

#include <algorithm>
#include <cerrno>
#include <vector>

#include <poll.h>
#include <time.h>

namespace sipedge::dns {

Millis monotonic_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Millis(ts.tv_sec) * 1000 + Millis(ts.tv_nsec) / 1000000;
}

bool poll_once(Resolver& r, uint32_t max_wait_ms) {
    Millis now = monotonic_ms();
    const Millis deadline = r.next_deadline(now);
    uint32_t wait = max_wait_ms;
    if (deadline != never_ms)
        wait = uint32_t(std::min<Millis>(wait, deadline > now ? deadline - now : 0));

    const std::vector<WatchedFd> socks = r.sockets();
    std::vector<pollfd> pfds;
    pfds.reserve(socks.size());
    for (const WatchedFd& w : socks)
        pfds.push_back(pollfd{w.fd, short((w.read ? POLLIN : 0) | (w.write ? POLLOUT : 0)), 0});
    const int n = poll(pfds.data(), pfds.size(), int(wait));
    if (n < 0 && errno != EINTR)
        return false;
    now = monotonic_ms();
    for (const pollfd& p : pfds) {
        if (!p.revents)
            continue;
        // Errors and hang-ups are reported as readable: c-ares reads, sees the
        // error and moves the query on.
        const bool rd = p.revents & (POLLIN | POLLERR | POLLHUP);
        const bool wr = p.revents & POLLOUT;
        r.on_fd(p.fd, rd, wr, now);
    }
    if (r.next_deadline(now) <= now)
        r.on_timer(now);
    return true;
}

bool run_until(Resolver& r, const std::function<bool()>& done, uint32_t timeout_ms) {
    const Millis end = monotonic_ms() + timeout_ms;
    while (!done()) {
        const Millis now = monotonic_ms();
        if (now >= end)
            return done();
        if (!poll_once(r, uint32_t(std::min<Millis>(end - now, 50))))
            return done();
    }
    return true;
}

}  // namespace sipedge::dns
