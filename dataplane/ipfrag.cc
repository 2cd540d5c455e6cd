// IPv4 reassembly and fragmentation on rte_ip_frag: see ipfrag.h.
//
// rte_ip_frag (22.11) reports nothing but "datagram" or "NULL" and puts what
// it frees on the death row. We learn why from what lands there: before each
// fragment, expired datagrams are swept (so whatever the lookup frees next is
// not an expiry); a lone new fragment on the row means no table room; two or
// more mean the datagram was refused, and the fragments' own headers tell
// whether it was one fragment too many, a duplicate, or an overlap.
// 22.11 also drops a whole datagram on an exact duplicate fragment; a small
// direct-mapped filter of recent fragments drops the copy alone instead.

// rte_ip_frag_table_del_expired_entries() is experimental in 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "dataplane/ipfrag.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <rte_cycles.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/inet.h"

namespace sipedge::dp {

static_assert(frag_max_per_datagram == RTE_LIBRTE_IP_FRAG_MAX_FRAG);

struct FragInfo {
    uint64_t src_dst;
    uint16_t id;   // wire order
    uint16_t ofs;  // bytes
    uint16_t len;  // payload bytes
    bool mf;
    bool ok;
};

// Reads the IPv4 header of a fragment the reassembler already checked.
static FragInfo frag_info(const rte_mbuf* m) noexcept {
    FragInfo f{};
    Ipv4Hdr h;
    std::memcpy(&h, rte_pktmbuf_mtod_offset(m, const uint8_t*, m->l2_len), sizeof(h));
    const uint16_t fo = be16(h.frag);
    f.src_dst = uint64_t(h.src) << 32 | h.dst;
    f.id = h.id;
    f.ofs = uint16_t((fo & 0x1fff) * 8);
    f.len = uint16_t(be16(h.total_len) - (h.ver_ihl & 0xf) * 4);
    f.mf = fo & 0x2000;
    f.ok = true;
    return f;
}

namespace {

void count_drops(WorkerStats* st, DropReason r, const rte_mbuf* m) noexcept {
    // A chain on the death row is a partly linked datagram: one segment per
    // fragment (fragments from a PMD are single-segment here).
    st->drops[size_t(r)] += m->nb_segs;
}

}  // namespace

Reassembler::~Reassembler() {
    if (dr_) {
        flush_death_row();
        rte_free(dr_);
    }
    if (tbl_) rte_ip_frag_table_destroy(tbl_);  // frees what it still holds
    rte_free(dup_);
}

bool Reassembler::init(const ReassemblyConfig& cfg, WorkerStats* stats) noexcept {
    if (tbl_ || !stats) return false;
    const uint32_t be = cfg.bucket_entries;
    if (cfg.flows == 0 || be == 0 || (be & (be - 1)) != 0 || cfg.timeout_ms == 0 ||
        cfg.flows > (1u << 24)) {
        std::fprintf(stderr, "sipedge: reassembly: bad table size (flows %u, bucket %u, %u ms)\n",
                     cfg.flows, be, cfg.timeout_ms);
        return false;
    }
    const uint64_t hz = cfg.tsc_hz ? cfg.tsc_hz : rte_get_tsc_hz();
    timeout_tsc_ = hz / 1000 * cfg.timeout_ms;
    // Buckets: enough that <flows> fit at the given associativity; the
    // library rounds the bucket count up to a power of two.
    const uint32_t buckets = (cfg.flows + be - 1) / be;
    const int sock = cfg.socket < 0 ? SOCKET_ID_ANY : cfg.socket;
    tbl_ = rte_ip_frag_table_create(buckets, be, cfg.flows, timeout_tsc_, sock);
    dr_ = static_cast<rte_ip_frag_death_row*>(
        rte_zmalloc_socket("sipedge_frag_dr", sizeof(rte_ip_frag_death_row), 64, sock));
    dup_ = static_cast<DupSlot*>(
        rte_zmalloc_socket("sipedge_frag_dup", sizeof(DupSlot) * dup_slots, 64, sock));
    if (!tbl_ || !dr_ || !dup_) {
        std::fprintf(stderr, "sipedge: reassembly: no memory for %u flows\n", cfg.flows);
        return false;
    }
    stats_ = stats;
    return true;
}

void Reassembler::flush_death_row() noexcept {
    if (dr_->cnt) rte_ip_frag_free_death_row(dr_, 0);
}

Reassembler::DupSlot& Reassembler::dup_slot(uint64_t src_dst, uint16_t id, uint16_t ofs) noexcept {
    uint64_t h = (src_dst ^ (uint64_t(id) << 16 | ofs)) * 0x9e3779b97f4a7c15ull;
    return dup_[h >> (64 - 10)];
}
static_assert(1u << 10 == 1024);

void Reassembler::expire(uint64_t now) noexcept {
    for (;;) {
        const uint32_t from = dr_->cnt;
        rte_ip_frag_table_del_expired_entries(tbl_, dr_, now);
        if (dr_->cnt == from) break;
        // One datagram's fragments are freed together: count the key changes.
        uint64_t last_sd = 0;
        uint16_t last_id = 0;
        for (uint32_t i = from; i < dr_->cnt; i++) {
            const FragInfo f = frag_info(dr_->row[i]);
            if (i == from || f.src_dst != last_sd || f.id != last_id) rstats_.datagrams_timed_out++;
            last_sd = f.src_dst;
            last_id = f.id;
            count_drops(stats_, DropReason::ipv4_frag_timeout, dr_->row[i]);
        }
        flush_death_row();  // the sweep stops when the row is short of room: go on
    }
}

// Classifies what one rte_ipv4_frag_reassemble_packet() call put on the death
// row (entries [from, cnt)). <in> is the fragment just offered and <fin> its
// header as it arrived (the library may have stripped it since, when it
// linked <in> behind another fragment before finding a hole).
void Reassembler::account(uint32_t from, const rte_mbuf* in, const FragInfo& fin, uint64_t now) noexcept {
    const uint32_t n = dr_->cnt - from;
    if (n == 0) return;
    rte_mbuf** row = dr_->row + from;
    if (n == 1 && row[0] == in) {  // the lookup found no room
        count_drops(stats_, DropReason::ipv4_frag_no_room, in);
        return;
    }
    rstats_.datagrams_invalid++;
    // One too many: <in> is a middle fragment refused because every middle
    // slot was taken; it is then the last entry and the others hold them all.
    DropReason r = DropReason::ipv4_frag_overlap;
    if (fin.mf && fin.ofs != 0 && row[n - 1] == in) {
        uint32_t middles = 0;
        for (uint32_t i = 0; i + 1 < n; i++) {
            const FragInfo f = frag_info(row[i]);
            middles += f.mf && f.ofs != 0;
        }
        if (middles == frag_max_per_datagram - 2) {
            r = DropReason::ipv4_frag_too_many;
            refused_slot(fin.src_dst, fin.id) = Refused{fin.src_dst, now ? now : 1, fin.id};
        }
    }
    if (r == DropReason::ipv4_frag_overlap) {
        for (uint32_t i = 0; i < n && r == DropReason::ipv4_frag_overlap; i++) {
            const FragInfo a = frag_info(row[i]);
            for (uint32_t j = i + 1; j < n; j++) {
                const FragInfo b = frag_info(row[j]);
                if (a.ofs == b.ofs && a.len == b.len && a.mf == b.mf) {
                    r = DropReason::ipv4_frag_duplicate;
                    break;
                }
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) count_drops(stats_, r, row[i]);
}

// Clears the duplicate-filter slots of a completed datagram, so that a new
// datagram reusing its IP id is not mistaken for copies. <whole> is the
// reassembled chain: segment k holds fragment k's payload, in order.
void Reassembler::forget_datagram(rte_mbuf* whole, uint16_t l2_len) noexcept {
    Ipv4Hdr h;
    std::memcpy(&h, rte_pktmbuf_mtod_offset(whole, const uint8_t*, l2_len), sizeof(h));
    const uint64_t sd = uint64_t(h.src) << 32 | h.dst;
    uint32_t ofs = 0;
    uint32_t skip = l2_len + (h.ver_ihl & 0xf) * 4u;
    for (const rte_mbuf* s = whole; s; s = s->next) {
        DupSlot& d = dup_slot(sd, h.id, uint16_t(ofs));
        if (d.tsc && d.src_dst == sd && d.id == h.id && d.ofs == ofs) d.tsc = 0;
        ofs += s->data_len - skip;
        skip = 0;
    }
}

rte_mbuf* Reassembler::reassemble(rte_mbuf* m, uint16_t l2_len, uint64_t now) noexcept {
    // Checks rte_ip_frag leaves to us: the header is whole and in the first
    // segment, lengths agree, and the piece ends within a 65535-byte datagram.
    const uint32_t dlen = rte_pktmbuf_data_len(m);
    Ipv4Hdr h;
    size_t ihl = 0;
    bool ok = dlen >= uint32_t(l2_len) + ipv4_hdr_len;
    if (ok) {
        const uint8_t* p = rte_pktmbuf_mtod_offset(m, const uint8_t*, l2_len);
        std::memcpy(&h, p, sizeof(h));
        ihl = size_t(h.ver_ihl & 0xf) * 4;
        const size_t tot = be16(h.total_len);
        ok = (h.ver_ihl >> 4) == 4 && ihl >= ipv4_hdr_len && l2_len + ihl <= dlen && tot > ihl &&
             tot <= rte_pktmbuf_pkt_len(m) - l2_len && csum_fold(csum_add(0, p, ihl)) == 0;
        if (ok) {
            const uint16_t fo = be16(h.frag);
            const size_t ofs = size_t(fo & 0x1fff) * 8, len = tot - ihl;
            if (!(fo & 0x3fff)) return m;  // not a fragment: already whole
            ok = ofs + len + ihl <= 0xffff && (!(fo & 0x2000) || len % 8 == 0);
        }
    }
    rstats_.fragments_rx++;
    if (!ok) {
        stats_->drop(DropReason::ipv4_frag_malformed);
        rte_pktmbuf_free(m);
        return nullptr;
    }
    m->l2_len = l2_len;
    m->l3_len = uint16_t(ihl);

    expire(now);

    const FragInfo f = frag_info(m);
    // A later fragment of a datagram already refused for too many fragments.
    if (Refused& x = refused_slot(f.src_dst, f.id);
        x.tsc && x.src_dst == f.src_dst && x.id == f.id) {
        if (now - x.tsc <= timeout_tsc_) {
            stats_->drop(DropReason::ipv4_frag_too_many);
            rte_pktmbuf_free(m);
            return nullptr;
        }
        x.tsc = 0;
    }
    DupSlot& d = dup_slot(f.src_dst, f.id, f.ofs);
    if (d.tsc && now - d.tsc <= timeout_tsc_ && d.src_dst == f.src_dst && d.id == f.id &&
        d.ofs == f.ofs && d.len == f.len && d.mf == f.mf) {
        stats_->drop(DropReason::ipv4_frag_duplicate);
        rte_pktmbuf_free(m);
        return nullptr;
    }
    d = DupSlot{f.src_dst, now ? now : 1, f.id, f.ofs, f.len, uint16_t(f.mf)};

    const uint32_t from = dr_->cnt;
    auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2_len);
    rte_mbuf* out = rte_ipv4_frag_reassemble_packet(tbl_, dr_, m, now, ip);
    account(from, m, f, now);
    if (dr_->cnt - from == 1 && dr_->row[from] == m) d.tsc = 0;  // not held: no copy to filter
    flush_death_row();
    if (!out) return nullptr;

    // The library leaves the header checksum at 0: make it a valid datagram.
    uint8_t* oh = rte_pktmbuf_mtod_offset(out, uint8_t*, l2_len);
    oh[10] = oh[11] = 0;
    const uint16_t c = csum_fold(csum_add(0, oh, out->l3_len));
    std::memcpy(oh + 10, &c, 2);
    rstats_.datagrams_reassembled++;
    forget_datagram(out, l2_len);
    return out;
}

size_t copy_out(const rte_mbuf* m, size_t offset, char* out, size_t cap) noexcept {
    const size_t total = rte_pktmbuf_pkt_len(m);
    if (offset > total || total - offset > cap) return 0;
    size_t n = 0;
    for (const rte_mbuf* s = m; s; s = s->next) {
        size_t len = rte_pktmbuf_data_len(s);
        const char* p = rte_pktmbuf_mtod(s, const char*);
        if (offset >= len) {
            offset -= len;
            continue;
        }
        p += offset;
        len -= offset;
        offset = 0;
        std::memcpy(out + n, p, len);
        n += len;
    }
    return n;
}

rte_mbuf* copy_in(rte_mempool* pool, const void* data, size_t len) noexcept {
    rte_mbuf* head = nullptr;
    const auto* src = static_cast<const uint8_t*>(data);
    do {
        rte_mbuf* s = rte_pktmbuf_alloc(pool);
        if (!s) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
        const size_t n = std::min<size_t>(len, rte_pktmbuf_tailroom(s));
        std::memcpy(rte_pktmbuf_append(s, uint16_t(n)), src, n);
        src += n;
        len -= n;
        if (!head) {
            head = s;
        } else if (rte_pktmbuf_chain(head, s) != 0) {  // more than RTE_MBUF_MAX_NB_SEGS
            rte_pktmbuf_free(s);
            rte_pktmbuf_free(head);
            return nullptr;
        }
    } while (len);
    return head;
}

FragmentResult Fragmenter::fragment(rte_mbuf* m, uint16_t l2_len, uint16_t mtu, rte_mbuf** out,
                                    uint16_t cap, uint16_t& n) noexcept {
    n = 0;
    uint8_t l2[64];
    const uint32_t dlen = rte_pktmbuf_data_len(m);
    if (l2_len > sizeof(l2) || dlen < uint32_t(l2_len) + ipv4_hdr_len || cap == 0) {
        rte_pktmbuf_free(m);
        return FragmentResult::malformed;
    }
    uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
    Ipv4Hdr h;
    std::memcpy(&h, p + l2_len, sizeof(h));
    const size_t ihl = size_t(h.ver_ihl & 0xf) * 4, tot = be16(h.total_len);
    const size_t have = rte_pktmbuf_pkt_len(m) - l2_len;
    if ((h.ver_ihl >> 4) != 4 || ihl < ipv4_hdr_len || l2_len + ihl > dlen || tot <= ihl ||
        tot > have) {
        rte_pktmbuf_free(m);
        return FragmentResult::malformed;
    }
    if (have > tot) rte_pktmbuf_trim(m, uint16_t(have - tot));
    if (tot <= mtu) {
        out[0] = m;
        n = 1;
        return FragmentResult::ok;
    }
    const size_t per = (size_t(mtu) - ihl) & ~size_t(7);
    if (mtu < 68 || mtu <= ihl + 8 || (tot - ihl + per - 1) / per > cap) {
        rte_pktmbuf_free(m);
        return FragmentResult::too_many;
    }
    std::memcpy(l2, p, l2_len);
    rte_pktmbuf_adj(m, l2_len);
    // We are the source host of what we fragment: DF off (RFC 791 §3.2).
    h.frag = be16(uint16_t(be16(h.frag) & ~0x4000));
    std::memcpy(p + l2_len + 6, &h.frag, 2);
    const int32_t r = rte_ipv4_fragment_packet(m, out, cap, mtu, direct_, indirect_);
    rte_pktmbuf_free(m);  // the fragments hold their own references to its data
    if (r < 0) return r == -ENOMEM ? FragmentResult::no_mbuf : FragmentResult::malformed;
    for (int32_t i = 0; i < r; i++) {
        rte_mbuf* f = out[i];
        uint8_t* fh = rte_pktmbuf_mtod(f, uint8_t*);
        const uint16_t fihl = uint16_t((fh[0] & 0xf) * 4);
        fh[10] = fh[11] = 0;
        const uint16_t c = csum_fold(csum_add(0, fh, fihl));
        std::memcpy(fh + 10, &c, 2);
        uint8_t* e = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(f, l2_len));
        if (!e && l2_len) {
            for (int32_t k = 0; k < r; k++) rte_pktmbuf_free(out[k]);
            return FragmentResult::no_mbuf;  // direct pool without headroom
        }
        if (l2_len) std::memcpy(e, l2, l2_len);
        f->l2_len = l2_len;
        f->l3_len = fihl;
    }
    n = uint16_t(r);
    return FragmentResult::ok;
}

}  // namespace sipedge::dp
