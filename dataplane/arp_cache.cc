// ARP cache: see arp_cache.h.

#include "dataplane/arp_cache.h"

namespace sipedge::dp {

ArpCache::Entry* ArpCache::find(uint32_t ip) noexcept {
    for (Entry& e : e_)
        if (e.state != State::free && e.ip == ip) return &e;
    return nullptr;
}

// A free entry, else the reachable entry confirmed longest ago; incomplete
// entries hold packets and are never evicted (they free themselves in tick()).
ArpCache::Entry* ArpCache::alloc(uint64_t now) noexcept {
    (void)now;
    Entry* oldest = nullptr;
    for (Entry& e : e_) {
        if (e.state == State::free) return &e;
        if (e.state == State::reachable && (!oldest || e.confirmed < oldest->confirmed))
            oldest = &e;
    }
    if (oldest) *oldest = Entry{};
    return oldest;
}

bool ArpCache::prime(uint32_t ip, uint64_t now) noexcept {
    if (find(ip) != nullptr || size() >= capacity / 2) return false;
    Entry* e = alloc(now);
    if (!e) return false;
    e->ip = ip;
    e->state = State::incomplete;
    e->tries = 1;
    e->next_try = now + cfg_.retry_ms;
    return true;
}

ArpCache::Result ArpCache::resolve(uint32_t ip, uint64_t now, MacAddr& mac,
                                   uint64_t cookie) noexcept {
    Result r;
    Entry* e = find(ip);
    if (e && e->state == State::reachable) {
        mac = e->mac;
        r.status = Status::hit;
        // Past its time: keep using it while it is re-confirmed.
        if (now >= e->confirmed + cfg_.reachable_ms && now >= e->next_try) {
            e->tries++;
            e->next_try = now + cfg_.retry_ms;
            r.send_request = true;
        }
        return r;
    }
    if (!e) {
        e = alloc(now);
        if (!e) return r;  // full
        e->ip = ip;
        e->state = State::incomplete;
        e->tries = 1;
        e->next_try = now + cfg_.retry_ms;
        r.send_request = true;
    }
    if (e->nparked == park_max) {  // full: the oldest goes, the newest is kept
        r.replaced = e->parked[0];
        for (size_t i = 1; i < park_max; i++) e->parked[i - 1] = e->parked[i];
        e->nparked--;
    }
    e->parked[e->nparked++] = cookie;
    r.status = Status::parked;
    return r;
}

ArpCache::Parked ArpCache::learn(uint32_t ip, const MacAddr& mac, uint64_t now, bool create) noexcept {
    Parked p;
    Entry* e = find(ip);
    if (!e) {
        if (!create) return p;
        e = alloc(now);
        if (!e) return p;
        e->ip = ip;
    }
    e->mac = mac;
    e->state = State::reachable;
    e->tries = 0;
    e->confirmed = now;
    e->next_try = 0;
    for (uint8_t i = 0; i < e->nparked; i++) p.c[i] = e->parked[i];
    p.n = e->nparked;
    e->nparked = 0;
    return p;
}

size_t ArpCache::size() const noexcept {
    size_t n = 0;
    for (const Entry& e : e_) n += e.state != State::free;
    return n;
}

}  // namespace sipedge::dp
