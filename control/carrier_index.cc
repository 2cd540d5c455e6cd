#include "control/carrier_index.h"

#include <algorithm>

#include "failover/engine.h"

namespace sipedge::ctl {

bool CarrierIndex::Counted::add(uint32_t ip) {
    const auto it = std::lower_bound(key.begin(), key.end(), ip);
    const size_t i = size_t(it - key.begin());
    if (it != key.end() && *it == ip) {
        n[i]++;
        return false;
    }
    key.insert(it, ip);
    n.insert(n.begin() + long(i), 1);
    return true;
}

bool CarrierIndex::Counted::remove(uint32_t ip) {
    const auto it = std::lower_bound(key.begin(), key.end(), ip);
    if (it == key.end() || *it != ip) return false;
    const size_t i = size_t(it - key.begin());
    if (--n[i] != 0) return false;
    key.erase(it);
    n.erase(n.begin() + long(i));
    return true;
}

void CarrierIndex::rebuild() {
    for (Counted* c : {&all_, &hidden_}) {
        std::vector<uint32_t> v;
        for (const Entry& en : by_trunk_)
            if (en.present && (c == &all_ || en.hide)) v.insert(v.end(), en.ips.begin(), en.ips.end());
        std::sort(v.begin(), v.end());
        c->key.clear();
        c->n.clear();
        for (uint32_t ip : v) {
            if (!c->key.empty() && c->key.back() == ip) {
                c->n.back()++;
                continue;
            }
            c->key.push_back(ip);
            c->n.push_back(1);
        }
    }
}

bool CarrierIndex::update(const failover::Engine& e) {
    recounted_ = 0;
    rebuilt_ = false;
    bool fresh = false;
    if (e.instance() != instance_) {
        instance_ = e.instance();
        by_trunk_.clear();
        fresh = true;
    }
    if (by_trunk_.size() < e.trunk_count()) by_trunk_.resize(e.trunk_count());
    // Which trunks changed (a compare per id), and their new lists.
    struct Change {
        uint32_t id;
        Entry next;
    };
    std::vector<Change> changes;
    for (uint32_t id = 0; id < by_trunk_.size(); id++) {
        const failover::Trunk* t = e.trunk(id);
        const Entry& was = by_trunk_[id];
        if (t == nullptr ? !was.present
                         : was.present && was.epoch == t->list_epoch && was.hide == t->knobs.hide_topology)
            continue;
        Change c{id, {}};
        if (t != nullptr) {
            c.next.present = true;
            c.next.hide = t->knobs.hide_topology;
            c.next.epoch = t->list_epoch;
            for (const failover::ServerState& s : t->servers) {
                if (s.family != 4) continue;
                const uint32_t ip = uint32_t(s.addr[0]) << 24 | uint32_t(s.addr[1]) << 16 |
                                    uint32_t(s.addr[2]) << 8 | s.addr[3];
                if (std::find(c.next.ips.begin(), c.next.ips.end(), ip) == c.next.ips.end())
                    c.next.ips.push_back(ip);
            }
        }
        changes.push_back(std::move(c));
    }
    recounted_ = changes.size();
    if (changes.empty()) return false;
    if (fresh || changes.size() > rebuild_above) {
        const std::vector<uint32_t> all0 = all_.key, hidden0 = hidden_.key;
        for (Change& c : changes) by_trunk_[c.id] = std::move(c.next);
        rebuild();
        rebuilt_ = true;
        return all_.key != all0 || hidden_.key != hidden0;
    }
    bool changed = false;
    for (Change& c : changes) {
        Entry& was = by_trunk_[c.id];
        if (was.present)
            for (uint32_t ip : was.ips) {
                changed |= all_.remove(ip);
                if (was.hide) changed |= hidden_.remove(ip);
            }
        for (uint32_t ip : c.next.ips) {
            changed |= all_.add(ip);
            if (c.next.hide) changed |= hidden_.add(ip);
        }
        was = std::move(c.next);
    }
    return changed;
}

}  // namespace sipedge::ctl
