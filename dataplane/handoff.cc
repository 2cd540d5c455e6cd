// Cross-core handoff rings and the top-Via owner scan: see handoff.h.

#include "dataplane/handoff.h"

#include <cstdio>
#include <string_view>

#include <rte_errno.h>

#include "dataplane/branch.h"

namespace sipedge::dp {

bool Handoff::init(uint16_t workers, uint32_t ring_size, const char* name, int socket) noexcept {
    if (workers_ != 0 || workers == 0 || workers > max_workers || ring_size < 2 ||
        (ring_size & (ring_size - 1)) != 0) {
        std::fprintf(stderr, "sipedge: handoff: bad size (%u workers, ring %u)\n", workers,
                     ring_size);
        return false;
    }
    for (uint16_t i = 0; i < workers; i++) {
        char rn[RTE_RING_NAMESIZE];
        std::snprintf(rn, sizeof(rn), "%s_%u", name, unsigned(i));
        // MP enqueue (any worker), SC dequeue (the owner).
        rings_[i] = rte_ring_create(rn, ring_size, socket, RING_F_SC_DEQ);
        if (!rings_[i]) {
            std::fprintf(stderr, "sipedge: handoff ring %s: %s\n", rn, rte_strerror(rte_errno));
            workers_ = i;
            destroy();
            return false;
        }
    }
    workers_ = workers;
    return true;
}

void Handoff::destroy() noexcept {
    for (uint16_t i = 0; i < workers_; i++) {
        void* m;
        while (rte_ring_sc_dequeue(rings_[i], &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(rings_[i]);
        rings_[i] = nullptr;
    }
    workers_ = 0;
}

uint16_t Handoff::push_burst(uint16_t owner, rte_mbuf* const* ms, uint16_t n,
                             WorkerStats& producer) noexcept {
    unsigned done = 0;
    if (owner < workers_)
        done = rte_ring_mp_enqueue_burst(rings_[owner], reinterpret_cast<void* const*>(ms), n,
                                         nullptr);
    for (unsigned i = done; i < n; i++) {
        producer.drop(DropReason::handoff_full);
        rte_pktmbuf_free(ms[i]);
    }
    return uint16_t(done);
}

namespace {

inline char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }
inline bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

// The owner in the first value of a Via header's value v[0, n).
int owner_in_via_value(const char* v, size_t n) noexcept {
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        const char c = v[i];
        if (c == '"') quoted = !quoted;
        if (quoted) continue;
        if (c == ',') break;  // the first value ends here
        if (c != ';') continue;
        size_t k = i + 1;
        while (k < n && is_ws(v[k])) k++;
        constexpr char name[] = "branch";
        size_t j = 0;
        while (j < 6 && k + j < n && lower(v[k + j]) == name[j]) j++;
        if (j != 6) continue;
        k += 6;
        while (k < n && is_ws(v[k])) k++;
        if (k >= n || v[k] != '=') continue;
        k++;
        while (k < n && is_ws(v[k])) k++;
        size_t e = k;
        while (e < n && v[e] != ';' && v[e] != ',' && !is_ws(v[e]) && v[e] != '\r') e++;
        BranchId id;
        if (!decode_branch(std::string_view(v + k, e - k), id)) return owner_none;
        return id.core == control_core ? owner_control : int(id.core);
    }
    return owner_none;
}

}  // namespace

int via_branch_owner(const char* msg, size_t len) noexcept {
    size_t pos = 0;
    while (pos < len && msg[pos] != '\n') pos++;  // start line
    pos++;
    while (pos < len) {
        size_t eol = pos;
        while (eol < len && msg[eol] != '\n') eol++;
        size_t end = eol;
        if (end > pos && msg[end - 1] == '\r') end--;
        if (end == pos) return owner_none;  // blank line: end of headers
        if (!is_ws(msg[pos])) {             // not a continuation line
            size_t k = pos;
            while (k < end && msg[k] != ':' && !is_ws(msg[k])) k++;
            const size_t nl = k - pos;
            const bool via = (nl == 1 && lower(msg[pos]) == 'v') ||
                             (nl == 3 && lower(msg[pos]) == 'v' && lower(msg[pos + 1]) == 'i' &&
                              lower(msg[pos + 2]) == 'a');
            while (k < end && is_ws(msg[k])) k++;
            if (via && k < end && msg[k] == ':') return owner_in_via_value(msg + k + 1, end - k - 1);
        }
        pos = eol + 1;
    }
    return owner_none;
}

}  // namespace sipedge::dp
