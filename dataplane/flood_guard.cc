// Access peers and flood guards (issue 16): see flood_guard.h.

#include "dataplane/flood_guard.h"

#include <algorithm>
#include <new>

namespace sipedge::dp {

int peer_of(const AccessPeers& p, uint32_t ip) noexcept {
    for (uint32_t i = 0; i < p.net_count; i++)
        if ((ip & p.nets[i].mask) == p.nets[i].net) return p.nets[i].peer < p.peer_count ? int(p.nets[i].peer) : -1;
    return -1;
}

bool FloodGuard::init(uint32_t max_peers, uint32_t sources) {
    if (sources == 0) sources = 65536;
    uint32_t n = 16;
    while (n < sources && n < (1u << 24)) n <<= 1;
    buckets_.reset(new (std::nothrow) Bucket[size_t(std::max(max_peers, 1u)) * size_t(RateKind::count_)]);
    sources_.reset(new (std::nothrow) Source[n]);
    if (!buckets_ || !sources_) return false;
    max_peers_ = std::max(max_peers, 1u);
    mask_ = n - 1;
    return true;
}

// A token bucket refilled at <rps> per second up to <burst> (0: rps): one
// token per request. A new bucket starts full.
bool FloodGuard::take(Bucket& b, uint32_t rps, uint32_t burst, Millis now) noexcept {
    const uint64_t cap = uint64_t(burst ? burst : rps) * 1000;
    if (!b.primed) {
        b.primed = true;
        b.tokens_milli = cap;
        b.at = now;
    } else if (now > b.at) {
        b.tokens_milli = std::min<uint64_t>(cap, b.tokens_milli + (now - b.at) * rps);  // rps/ms × 1000
        b.at = now;
    }
    if (b.tokens_milli < 1000) return false;
    b.tokens_milli -= 1000;
    return true;
}

static inline uint32_t mix(uint32_t ip) noexcept {
    uint32_t h = ip * 0x9e3779b1u;
    return h ^ (h >> 16);
}

const FloodGuard::Source* FloodGuard::find(uint32_t ip) const noexcept {
    if (!sources_ || ip == 0) return nullptr;
    const uint32_t h = mix(ip);
    for (uint32_t k = 0; k < probe_len; k++) {
        const Source& s = sources_[(h + k) & mask_];
        if (s.ip == ip) return &s;
    }
    return nullptr;
}

// The entry of <ip>, made when missing: an empty slot of its probe run, or
// the one whose window is oldest and that is not blocked (a blocked source is
// evicted only when every slot around it is blocked too).
FloodGuard::Source* FloodGuard::source(uint32_t ip, Millis now) noexcept {
    const uint32_t h = mix(ip);
    Source* victim = nullptr;
    for (uint32_t k = 0; k < probe_len; k++) {
        Source& s = sources_[(h + k) & mask_];
        if (s.ip == ip) return &s;
        if (s.ip == 0) {
            if (!victim || victim->ip != 0) victim = &s;
            continue;
        }
        if (victim && victim->ip == 0) continue;
        const bool blocked = s.blocked_until > now;
        if (!victim || (victim->blocked_until > now && !blocked) ||
            ((victim->blocked_until > now) == blocked && s.window < victim->window))
            victim = &s;
    }
    if (victim->ip != 0) evictions_++;
    *victim = Source{};
    victim->ip = ip;
    victim->window = now;
    return victim;
}

FloodVerdict FloodGuard::check(const AccessPeers& p, uint32_t ip, RateKind kind, Millis now,
                               int& peer_out) noexcept {
    peer_out = peer_of(p, ip);
    if (peer_out < 0 && p.restrict_sources) return FloodVerdict::not_a_peer;
    if (p.source_rps && sources_) {
        Source& s = *source(ip, now);
        if (s.blocked_until > now) return FloodVerdict::source_flood;
        if (now - s.window >= 1000) {
            s.window = now;
            s.count = 0;
        }
        if (++s.count > p.source_rps) {
            s.blocked_until = now + Millis(std::max(p.block_s, 1u)) * 1000;
            return FloodVerdict::source_flood;
        }
    }
    if (peer_out >= 0 && uint32_t(peer_out) < max_peers_ && p.limits) {
        const PeerLimit& l = p.limits[peer_out];
        const uint32_t rps = l.rps[size_t(kind)];
        if (rps && !take(buckets_[size_t(peer_out) * size_t(RateKind::count_) + size_t(kind)], rps,
                         l.burst[size_t(kind)], now))
            return FloodVerdict::peer_rate;
    }
    return FloodVerdict::pass;
}

void FloodGuard::reset_buckets() noexcept {
    for (uint32_t i = 0; buckets_ && i < max_peers_ * uint32_t(RateKind::count_); i++) buckets_[i] = Bucket{};
}

uint32_t FloodGuard::blocked_for_s(uint32_t ip, Millis now) const noexcept {
    const Source* s = find(ip);
    if (!s || s->blocked_until <= now) return 1;
    return uint32_t((s->blocked_until - now + 999) / 1000);
}

uint32_t FloodGuard::blocked_sources(Millis now) const noexcept {
    uint32_t n = 0;
    for (uint32_t i = 0; sources_ && i <= mask_; i++) n += sources_[i].ip != 0 && sources_[i].blocked_until > now;
    return n;
}

}  // namespace sipedge::dp
