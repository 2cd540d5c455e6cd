#include "stream/channel.h"

#include <cerrno>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace sipedge::stream {

Waker::Waker() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Waker::~Waker() {
    if (fd_ >= 0) close(fd_);
}

void Waker::disarm() noexcept {
    armed_.store(false, std::memory_order_relaxed);
    uint64_t v;
    while (read(fd_, &v, sizeof v) > 0) {
    }
}

void Waker::signal() noexcept {
    const uint64_t one = 1;
    // EAGAIN only when the counter is saturated: the consumer wakes anyway.
    ssize_t r = write(fd_, &one, sizeof one);
    (void)r;
}

void Waker::wait(int timeout_ms) noexcept {
    pollfd p{fd_, POLLIN, 0};
    while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
    }
    disarm();
}

Channel::Channel(uint32_t index, const ChannelConfig& c, Waker* stream_waker)
    : index_(index),
      rx_pool_(c.rx_pool),
      tx_pool_(c.tx_pool),
      rx_ring_(rx_pool_.total()),
      tx_ring_(tx_pool_.total()),
      stream_waker_(stream_waker) {}

bool Channel::rx_wait(int timeout_ms) noexcept {
    if (!rx_ring_.empty()) return true;
    rx_waker_.arm();
    if (!rx_ring_.empty()) {
        rx_waker_.disarm();
        return true;
    }
    rx_waker_.wait(timeout_ms);
    return !rx_ring_.empty();
}

}  // namespace sipedge::stream
