#include "stream/knobs.h"

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace sipedge::stream {

int apply_keepalive(int fd, const StreamKnobs& k) noexcept {
    const int on = k.tcp_keepalive_idle_s != 0;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0) return errno;
    if (!on) return 0;
    // seed P tcpIpApp.keepalive.tcp: idle before the first probe, the wait
    // between unanswered probes, and how many go unanswered before the kernel
    // resets the connection (surfacing as ETIMEDOUT → keepalive_lost).
    const int idle = int(k.tcp_keepalive_idle_s);
    const int intvl = int(k.tcp_keepalive_interval_s ? k.tcp_keepalive_interval_s : 1);
    const int cnt = int(k.tcp_keepalive_attempts ? k.tcp_keepalive_attempts : 1);
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0) return errno;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) != 0) return errno;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) != 0) return errno;
    return 0;
}

}  // namespace sipedge::stream
