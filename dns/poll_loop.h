#pragma once
// A poll()-based driver for a Resolver, for tests, benchmarks and tools. The
// sipedge control thread drives the Resolver from its epoll loop instead
// (set_socket_watch / on_fd / next_deadline / on_timer); this helper does the
// same with poll() and the process's monotonic clock.

#include <cstdint>
#include <functional>

#include "dns/resolver.h"
#include "dns/types.h"

namespace sipedge::dns {

/// CLOCK_MONOTONIC in milliseconds.
Millis monotonic_ms();

/// One round: polls the resolver's sockets for at most <max_wait_ms> (less
/// when a deadline is nearer), then runs on_fd() for ready sockets and
/// on_timer() when the deadline has passed. Returns false when poll() failed.
bool poll_once(Resolver& r, uint32_t max_wait_ms);

/// Runs poll_once() until <done>() is true or <timeout_ms> has passed.
/// Returns done().
bool run_until(Resolver& r, const std::function<bool()>& done, uint32_t timeout_ms);

}  // namespace sipedge::dns
