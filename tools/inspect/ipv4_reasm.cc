#include "tools/inspect/ipv4_reasm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace sipedge::ctl {

namespace {

// RFC 791: total length is 16 bits and includes the (at least 20-byte) header.
constexpr uint32_t max_payload = 65535 - 20;

}  // namespace

Ipv4Reassembler::Pending* Ipv4Reassembler::find(const Ipv4FragKey& key) noexcept {
    for (Pending& p : pending_)
        if (p.key == key) return &p;
    return nullptr;
}

void Ipv4Reassembler::erase(size_t index) {
    bytes_ -= pending_[index].data.size();
    pending_.erase(pending_.begin() + ptrdiff_t(index));
}

// Evicts the oldest datagrams, never the one at <keep> (SIZE_MAX: none), until
// one more datagram fits and <need_bytes> more bytes fit. Returns false when
// they cannot fit even with everything else gone.
bool Ipv4Reassembler::make_room(size_t need_bytes, size_t keep, bool new_entry) {
    const size_t entries = new_entry ? 1 : 0;
    size_t i = 0;
    while (i < pending_.size() &&
           (pending_.size() + entries > limits_.max_datagrams || bytes_ + need_bytes > limits_.max_bytes)) {
        if (i == keep) {
            i++;
            continue;
        }
        erase(i);
        if (keep != SIZE_MAX && keep > i) keep--;
        stats_.evicted++;
    }
    return pending_.size() + entries <= limits_.max_datagrams && bytes_ + need_bytes <= limits_.max_bytes;
}

void Ipv4Reassembler::expire(uint64_t now_us) {
    // Oldest first, but a capture's clock may step back: check every entry.
    for (size_t i = 0; i < pending_.size();) {
        const uint64_t first = pending_[i].first_us;
        if (now_us >= first && now_us - first >= limits_.timeout_us) {
            erase(i);
            stats_.timed_out++;
        } else {
            i++;
        }
    }
}

void Ipv4Reassembler::flush() {
    stats_.unfinished += pending_.size();
    pending_.clear();
    bytes_ = 0;
}

// Copies fragment <f> into <p>. Sets <conflict> when it overlaps received
// bytes with different content (then <p> is left unchanged), <duplicate> when
// every byte was received already. The caller has sized p.data to cover <f>.
bool Ipv4Reassembler::merge(Pending& p, const Ipv4Fragment& f, bool& conflict, bool& duplicate) {
    const uint32_t b = f.offset;
    const uint32_t e = f.offset + f.len;
    uint32_t covered = 0;
    for (const Range& r : p.ranges) {
        const uint32_t ob = std::max(b, r.begin);
        const uint32_t oe = std::min(e, r.end);
        if (ob >= oe) continue;
        if (std::memcmp(p.data.data() + ob, f.data + (ob - b), oe - ob) != 0) {
            conflict = true;
            return false;
        }
        covered += oe - ob;
    }
    duplicate = covered == f.len;
    std::memcpy(p.data.data() + b, f.data, f.len);

    // Insert [b, e) and merge with overlapping or adjacent ranges.
    Range nr{b, e};
    std::vector<Range> out;
    out.reserve(p.ranges.size() + 1);
    bool placed = false;
    for (const Range& r : p.ranges) {
        if (r.end < nr.begin) {
            out.push_back(r);
        } else if (nr.end < r.begin) {
            if (!placed) out.push_back(nr), placed = true;
            out.push_back(r);
        } else {
            nr.begin = std::min(nr.begin, r.begin);
            nr.end = std::max(nr.end, r.end);
        }
    }
    if (!placed) out.push_back(nr);
    p.ranges.swap(out);
    return true;
}

ReasmStatus Ipv4Reassembler::add(const Ipv4Fragment& f, uint64_t now_us) {
    stats_.fragments++;
    expire(now_us);

    // RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes.
    const uint64_t end = uint64_t(f.offset) + f.len;
    if (f.len == 0 || end > max_payload || (f.more && f.len % 8 != 0) || f.data == nullptr) {
        stats_.bad_fragment++;
        return ReasmStatus::dropped;
    }

    Pending* p = find(f.key);
    size_t index;
    if (p == nullptr) {
        if (!make_room(size_t(end), SIZE_MAX, true)) {
            stats_.evicted++;
            return ReasmStatus::dropped;
        }
        pending_.push_back(Pending{});
        p = &pending_.back();
        p->key = f.key;
        p->first_us = now_us;
        index = pending_.size() - 1;
    } else {
        index = size_t(p - pending_.data());
    }

    // The datagram's end is fixed by its last fragment; nothing may go past it
    // and there may be only one.
    if ((p->have_last && end > p->total) || (!f.more && p->have_last && end != p->total) ||
        (!f.more && !p->ranges.empty() && p->ranges.back().end > end)) {
        erase(index);
        stats_.inconsistent++;
        return ReasmStatus::dropped;
    }

    if (end > p->data.size()) {
        const size_t grow = size_t(end) - p->data.size();
        if (!make_room(grow, index, false)) {
            // Only possible with max_bytes below one datagram: give this one up.
            p = find(f.key);
            erase(size_t(p - pending_.data()));
            stats_.evicted++;
            return ReasmStatus::dropped;
        }
        p = find(f.key);  // eviction moved entries
        index = size_t(p - pending_.data());
        p->data.resize(size_t(end));
        bytes_ += grow;
    }

    bool conflict = false;
    bool duplicate = false;
    if (!merge(*p, f, conflict, duplicate)) {
        erase(index);
        stats_.overlap_conflict++;
        return ReasmStatus::dropped;
    }
    p->fragments++;
    if (duplicate) stats_.duplicate++;
    if (!f.more) {
        p->have_last = true;
        p->total = uint32_t(end);
    }

    if (!p->have_last || p->ranges.size() != 1 || p->ranges[0].begin != 0 || p->ranges[0].end != p->total)
        return ReasmStatus::pending;

    bytes_ -= p->data.size();
    done_.swap(p->data);
    done_.resize(p->total);
    done_fragments_ = p->fragments;
    pending_.erase(pending_.begin() + ptrdiff_t(index));
    stats_.completed++;
    return ReasmStatus::complete;
}

}  // namespace sipedge::ctl
