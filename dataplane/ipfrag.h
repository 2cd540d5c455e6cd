#pragma once
// IPv4 reassembly and fragmentation for one worker core, on DPDK's
// rte_ip_frag (table + death row). Sized at start-up; nothing is allocated
// per packet. Owned by one core: no locks, not thread-safe.
//
// Input framing: a fragment mbuf starts at its L2 header of <l2_len> bytes
// (14 for plain Ethernet; 0 when the caller already stripped it), then the
// IPv4 header, which must lie in the first segment. The reassembled datagram
// keeps the first fragment's L2 header in front, so the worker's RX path sees
// the same framing as for an unfragmented packet.
//
// Drops (every freed fragment mbuf counts once in WorkerStats::drops):
//   ipv4_frag_malformed  bad header, zero/odd-sized piece, ends past 65535
//   ipv4_frag_duplicate  an exact copy of a fragment already held (dropped alone:
//                        the datagram survives, unlike plain rte_ip_frag 22.11)
//   ipv4_frag_overlap    fragments that overlap or leave a hole once all bytes are
//                        counted: the whole datagram is dropped (RFC 5722 policy)
//   ipv4_frag_too_many   more than the table's fragments-per-datagram limit: the
//                        fragments held, the one refused and every later fragment
//                        of that datagram (remembered for the timeout), so none of
//                        it lingers to time out under another name; control/edge_report.cc
//                        says it once ("too many fragments")
//   ipv4_frag_no_room    the table is full of live datagrams
//   ipv4_frag_timeout    the datagram did not complete within the timeout

#include <cstddef>
#include <cstdint>

#include "dataplane/stats_types.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

namespace sipedge::dp {

struct FragInfo;

/// DPDK 22.11's compile-time bound (RTE_LIBRTE_IP_FRAG_MAX_FRAG): a datagram
/// arriving in more fragments than this is dropped as ipv4_frag_too_many.
inline constexpr uint32_t frag_max_per_datagram = 8;

struct ReassemblyConfig {
    uint32_t flows = 4096;         // datagrams under reassembly at once (table entries)
    uint32_t bucket_entries = 16;  // associativity, a power of two
    uint32_t timeout_ms = 2000;    // a datagram not complete by then is dropped
    uint64_t tsc_hz = 0;           // ticks per second of the <now> passed in; 0: rte_get_tsc_hz()
                                   // (1000 lets the worker pass its millisecond clock)
    int socket = -1;               // NUMA socket for the table; -1 = any
};

/// Datagram-level counters (fragment drops go to WorkerStats::drops).
struct ReassemblyStats {
    uint64_t fragments_rx = 0;           // fragments handed to reassemble()
    uint64_t datagrams_reassembled = 0;
    uint64_t datagrams_timed_out = 0;
    uint64_t datagrams_invalid = 0;      // dropped whole: overlap / too many
};

class Reassembler {
public:
    Reassembler() noexcept = default;
    ~Reassembler();
    Reassembler(const Reassembler&) = delete;
    Reassembler& operator=(const Reassembler&) = delete;

    /// Start-up: creates the table. <stats> receives the per-reason drop
    /// counts and must outlive this object. False (with a message on stderr)
    /// on a bad config or no memory.
    bool init(const ReassemblyConfig& cfg, WorkerStats* stats) noexcept;

    /// Takes ownership of <m>, an IPv4 fragment (MF set or offset nonzero)
    /// framed as the file comment says, arriving at TSC time <now>. Returns
    /// the reassembled datagram (usually a chain of segments, one per
    /// fragment, IPv4 total length, flags and header checksum rewritten),
    /// or nullptr when the datagram is still incomplete or <m> was dropped.
    rte_mbuf* reassemble(rte_mbuf* m, uint16_t l2_len, uint64_t now) noexcept;

    /// Drops datagrams older than the timeout at <now> (count: ipv4_frag_timeout).
    /// reassemble() does this too; the worker also calls it at housekeeping so
    /// a datagram that never completes is counted even when no fragment follows.
    void expire(uint64_t now) noexcept;

    const ReassemblyStats& stats() const noexcept { return rstats_; }

private:
    struct DupSlot {
        uint64_t src_dst = 0;  // wire order: src << 32 | dst (as read)
        uint64_t tsc = 0;      // arrival; 0 = empty
        uint16_t id = 0, ofs = 0, len = 0, mf = 0;
    };
    static constexpr uint32_t dup_slots = 1024;
    // Datagrams refused for too many fragments: their later fragments are
    // dropped as such at once (direct-mapped by source/destination and id).
    struct Refused {
        uint64_t src_dst = 0;
        uint64_t tsc = 0;  // 0 = empty
        uint16_t id = 0;
    };
    static constexpr uint32_t refused_slots = 64;
    Refused refused_[refused_slots];
    Refused& refused_slot(uint64_t src_dst, uint16_t id) noexcept {
        return refused_[((src_dst ^ id) * 0x9e3779b97f4a7c15ull) >> 58];
    }

    void account(uint32_t from, const rte_mbuf* in, const FragInfo& fin, uint64_t now) noexcept;
    void flush_death_row() noexcept;
    DupSlot& dup_slot(uint64_t src_dst, uint16_t id, uint16_t ofs) noexcept;
    void forget_datagram(rte_mbuf* whole, uint16_t l2_len) noexcept;

    rte_ip_frag_tbl* tbl_ = nullptr;
    rte_ip_frag_death_row* dr_ = nullptr;
    WorkerStats* stats_ = nullptr;
    DupSlot* dup_ = nullptr;
    uint64_t timeout_tsc_ = 0;
    ReassemblyStats rstats_;
};

/// Copies the packet <m> (any number of segments) from byte <offset> into
/// out[0, cap). Returns the bytes copied, or 0 when the data from <offset>
/// does not fit in <cap> (nothing is then promised about <out>). For the proxy,
/// which parses contiguous bytes: out = payload of a reassembled datagram.
size_t copy_out(const rte_mbuf* m, size_t offset, char* out, size_t cap) noexcept;

/// Copies data[0, len) into a chain of mbufs from <pool> (as many segments
/// as its data room needs): how the worker builds a datagram larger than one
/// mbuf before fragmenting it. nullptr when the pool runs dry (nothing leaks).
rte_mbuf* copy_in(rte_mempool* pool, const void* data, size_t len) noexcept;

enum class FragmentResult : uint8_t { ok, too_many, no_mbuf, malformed };

/// Splits an outgoing IPv4 datagram that exceeds an MTU into fragments.
/// Start-up sized: the two pools come from the caller.
class Fragmenter {
public:
    /// <direct>: small mbufs for each fragment's headers (data room >= 128 +
    /// l2 + 60 bytes), <indirect>: data room 0, attached to the input's data.
    Fragmenter(rte_mempool* direct, rte_mempool* indirect) noexcept
        : direct_(direct), indirect_(indirect) {}

    /// Takes ownership of <m> (framing as for reassembly: <l2_len> bytes of L2
    /// header, then IPv4). Writes up to <cap> fragments to out[] and returns
    /// their count via <n>. Each fragment starts with a copy of <m>'s L2 header
    /// (the caller writes the MACs as for any packet), then an IPv4 header with
    /// DF clear, MF/offset set and a valid header checksum; its IPv4 size is at
    /// most <mtu>. A datagram that already fits is returned as is (n = 1).
    /// On any failure <m> is freed, n = 0, and the reason is returned.
    FragmentResult fragment(rte_mbuf* m, uint16_t l2_len, uint16_t mtu, rte_mbuf** out,
                            uint16_t cap, uint16_t& n) noexcept;

private:
    rte_mempool* direct_;
    rte_mempool* indirect_;
};

}  // namespace sipedge::dp
