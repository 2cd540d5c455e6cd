#pragma once
// IPv4 fragment reassembly for sipedge-inspect (RFC 791 §3.2, RFC 815).
// Pure logic: no I/O, and time is the capture's, passed in by the caller.
//
// Capacity: at most `max_datagrams` pending datagrams holding at most
// `max_bytes` of fragment data in total (defaults: 1024 and 16 MiB). A new
// datagram that would exceed either limit evicts the oldest pending ones.
// Horizon: a pending datagram is dropped `timeout_us` (default 30 s, Linux's
// ipfrag_time) after its first fragment was seen.
// Memory: one buffer per pending datagram, as large as the highest fragment
// end seen (at most 65535 - 20 bytes), plus its list of received ranges.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sipedge::ctl {

/// Identifies the datagram a fragment belongs to (RFC 791 §3.2: source,
/// destination, protocol and identification). Addresses in network order.
struct Ipv4FragKey {
    uint32_t src = 0;
    uint32_t dst = 0;
    uint16_t id = 0;
    uint8_t proto = 0;

    friend bool operator==(const Ipv4FragKey&, const Ipv4FragKey&) = default;
};

/// One fragment as decoded from an IPv4 header; `data` is the fragment's
/// payload (after the IP header, trimmed to the header's total length).
struct Ipv4Fragment {
    Ipv4FragKey key;
    uint32_t offset = 0;  // fragment offset in bytes (header field x 8)
    bool more = false;    // MF flag
    const uint8_t* data = nullptr;
    uint32_t len = 0;
};

struct Ipv4ReasmLimits {
    size_t max_datagrams = 1024;
    size_t max_bytes = size_t(16) << 20;
    uint64_t timeout_us = 30'000'000;
};

/// Why fragments were thrown away; each counts datagrams, except
/// `bad_fragment` and `duplicate`, which count fragments.
struct Ipv4ReasmStats {
    uint64_t fragments = 0;       // fragments offered
    uint64_t completed = 0;       // datagrams reassembled
    uint64_t duplicate = 0;       // fragments whose bytes were all received already
    uint64_t bad_fragment = 0;    // malformed fragment (length, offset): ignored
    uint64_t overlap_conflict = 0;// overlapping bytes differed: datagram dropped
    uint64_t inconsistent = 0;    // two last fragments, or data past the end: dropped
    uint64_t timed_out = 0;       // incomplete after timeout_us: dropped
    uint64_t evicted = 0;         // dropped to make room (max_datagrams / max_bytes)
    uint64_t unfinished = 0;      // still pending when flush() was called
};

enum class ReasmStatus : uint8_t {
    pending,   // kept; the datagram is not complete yet
    complete,  // `payload()` holds the whole datagram payload
    dropped,   // fragment (and maybe its datagram) thrown away; see stats
};

/// Reassembles IPv4 datagrams from fragments arriving in any order.
/// Overlapping fragments are accepted when the overlapping bytes are equal
/// (retransmitted or re-fragmented data); when they differ the whole datagram
/// is dropped, as RFC 5722 requires for IPv6, since a receiver cannot tell
/// which copy the sender meant (and first-wins vs last-wins differs between
/// stacks, which evasion tools exploit).
class Ipv4Reassembler {
  public:
    explicit Ipv4Reassembler(Ipv4ReasmLimits limits = {}) : limits_(limits) {}

    /// Adds fragment <f> seen at capture time <now_us>. Expires datagrams older
    /// than the timeout first. Rejects (dropped, bad_fragment) a fragment that
    /// ends past 65515 bytes, is empty, or is not a multiple of 8 bytes long
    /// while more fragments follow. On `complete`, payload() and fragment_count()
    /// describe the datagram until the next call.
    ReasmStatus add(const Ipv4Fragment& f, uint64_t now_us);

    /// Drops datagrams whose first fragment is older than <now_us> - timeout.
    void expire(uint64_t now_us);

    /// Drops every pending datagram, counting them as unfinished (end of capture).
    void flush();

    const std::vector<uint8_t>& payload() const noexcept { return done_; }
    /// Fragments that went into the last completed datagram (duplicates included).
    uint32_t fragment_count() const noexcept { return done_fragments_; }
    size_t pending() const noexcept { return pending_.size(); }
    size_t pending_bytes() const noexcept { return bytes_; }
    const Ipv4ReasmStats& stats() const noexcept { return stats_; }

  private:
    struct Range {
        uint32_t begin, end;
    };
    struct Pending {
        Ipv4FragKey key;
        uint64_t first_us = 0;
        uint32_t total = 0;  // payload length, known once the last fragment came
        bool have_last = false;
        uint32_t fragments = 0;
        std::vector<uint8_t> data;
        std::vector<Range> ranges;  // sorted, disjoint, non-adjacent
    };

    Pending* find(const Ipv4FragKey& key) noexcept;
    void erase(size_t index);
    bool make_room(size_t need_bytes, size_t keep, bool new_entry);
    static bool merge(Pending& p, const Ipv4Fragment& f, bool& conflict, bool& duplicate);

    Ipv4ReasmLimits limits_;
    Ipv4ReasmStats stats_;
    // Oldest first: new datagrams are appended, so eviction and expiry look at
    // the front. Linear search is fine at the default 1024 entries for a tool.
    std::vector<Pending> pending_;
    size_t bytes_ = 0;  // sum of pending_[i].data.size()
    std::vector<uint8_t> done_;
    uint32_t done_fragments_ = 0;
};

}  // namespace sipedge::ctl
