#pragma once
// dataplane/tomb_store.h: completed transactions that only absorb
// retransmissions (RFC 3261 §17 Timers D/J/K, RFC 6026 Timers L/M), kept
// apart from the live transaction slots (issue 16).
//
// A transaction that reaches a state where it only answers late copies
// (make_tombstone() in dataplane/transaction.h) gives its slot and its
// retained-message buffer back at once and lives on here as one record: its
// key, the 16-byte Tombstone (what a late message gets, until when), where a
// resend goes, and the message it may resend (a non-INVITE's final response
// for a retransmitted request, the ACK for a retransmitted non-2xx final), copied
// at its exact length into a byte ring. So the number of calls a core can
// hold in lingering states is no longer bounded by the slot pools: a call's
// slots and buffers are held only while it is active.
//
// Records are kept in creation order (a FIFO ring) and their messages in the
// same order in the byte ring, so both are freed from the head with no
// fragmentation: sweep() pops the expired head records; a record whose
// shorter linger ended behind a longer one is refused by find() (and forgotten
// there) until the head reaches it. When the records or the bytes run out,
// the oldest record is dropped even if it has not expired (`evicted`): the
// store never refuses a new tombstone, it shortens the absorption window of
// the oldest ones, which are the least likely to see a late copy.
//
// Index: a TxnTable (dataplane/txn_table.h) from key hash to record number.
// No DPDK, no allocation after init(), no exceptions. One store per worker.
//
// Memory: records × (56 + ~11-16 bytes of index) + the byte ring; the proxy's
// default (8 records per transaction slot, 64 bytes of messages per record)
// is 131,072 records in ~9.4 MiB plus an 8 MiB byte ring for 16 Ki slots.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "dataplane/transaction.h"
#include "dataplane/txn_key.h"
#include "dataplane/txn_table.h"

namespace sipedge::dp {

/// One tombstone as the store keeps it.
struct TombRecord {
    TxnKey key;             // server key (server side) or client key (branch + method)
    Tombstone t;            // kind and expiry; t.buf = offset of the message in the byte ring
    uint32_t ip = 0;        // where a resend goes (host order): upstream for a server
    uint16_t port = 0;      //   tombstone, the server for an ACK, upstream for a 2xx
    uint16_t msg_len = 0;   // bytes of the retained message (0: none)
    uint32_t charge = 0;    // byte-ring bytes freed with this record (message + skipped tail)
    uint8_t live = 0;       // 1 while indexed
    sip::Transport tp = sip::Transport::udp;  // of ip:port (issue 14: a stream upstream)
    uint16_t pad_ = 0;
};
static_assert(std::is_trivially_copyable_v<TombRecord> && sizeof(TombRecord) == 56);

class TombStore {
public:
    TombStore() noexcept = default;
    ~TombStore() {
        std::free(rec_);
        std::free(bytes_);
    }
    TombStore(const TombStore&) = delete;
    TombStore& operator=(const TombStore&) = delete;

    /// Start-up only: room for <records> tombstones (1 .. 2^31) and
    /// <bytes> of retained messages (may be 0: then none are kept). False when
    /// out of range or memory is short.
    bool init(uint32_t records, size_t bytes, uint64_t seed) noexcept {
        if (records == 0 || records > (1u << 31) || bytes > UINT32_MAX) return false;
        std::free(rec_);
        std::free(bytes_);
        rec_ = static_cast<TombRecord*>(std::calloc(records, sizeof(TombRecord)));
        bytes_ = bytes ? static_cast<char*>(std::malloc(bytes)) : nullptr;
        if (!rec_ || (bytes && !bytes_) || !index_.init(records, seed)) return false;
        cap_ = records;
        arena_ = uint32_t(bytes);
        head_ = count_ = live_ = 0;
        tail_ = used_ = 0;
        return true;
    }

    /// Adds the tombstone <t> for <key>, resends going to <ip>:<port>, with a
    /// copy of msg[0, msg_len) (none when msg_len is 0 or over the byte ring:
    /// the tombstone then only absorbs). Makes room by dropping the oldest
    /// records. Records created at <now> with t.expires <= now are not kept.
    void add(const TxnKey& key, const Tombstone& t, uint32_t ip, uint16_t port, const char* msg,
             size_t msg_len, Millis now, sip::Transport tp = sip::Transport::udp) noexcept {
        if (cap_ == 0 || t.expires <= now) return;
        index_.prefetch(key.hash);  // loads while pop() below erases the oldest
        if (count_ == cap_) pop(now);
        if (msg_len > arena_ || msg_len > UINT16_MAX) msg_len = 0;
        uint32_t off = 0, charge = 0;
        if (msg_len) {
            // Contiguous in ring order: skip the tail when the message does not fit there.
            bool wrap = tail_ + msg_len > arena_;
            while (count_ && used_ + (wrap ? arena_ - tail_ : 0) + msg_len > arena_) {
                pop(now);
                if (count_ == 0) tail_ = used_ = 0, wrap = false;
            }
            if (count_ == 0) tail_ = used_ = 0, wrap = false;
            charge = uint32_t(msg_len) + (wrap ? arena_ - tail_ : 0);
            off = wrap ? 0 : tail_;
            std::memcpy(bytes_ + off, msg, msg_len);
            tail_ = off + uint32_t(msg_len);
            used_ += charge;
        }
        const uint32_t i = (head_ + count_) % cap_;
        TombRecord& r = rec_[i];
        r.key = key;
        r.t = t;
        r.t.buf = off;
        r.ip = ip;
        r.port = port;
        r.tp = tp;
        r.msg_len = uint16_t(msg_len);
        r.charge = charge;
        r.live = index_.insert_absent(key.hash, i) == TxnTable::InsertStatus::inserted;
        count_++;
        live_ += r.live;
        added_++;
    }

    /// The live tombstone for <k> at <now>, or nullptr. <eq>(record, k) may
    /// refine the match (RFC 2543 keys). An expired one is forgotten here.
    template <class Eq>
    const TombRecord* find(const TxnKey& k, Millis now, Eq&& eq) noexcept {
        const uint32_t i = index_.find(k, k.hash, [&](uint32_t s, const TxnKey& key) {
            return rec_[s].live && rec_[s].key == key && eq(rec_[s], key);
        });
        if (i == TxnTable::npos) return nullptr;
        if (rec_[i].t.expires <= now) {
            forget(i);
            return nullptr;
        }
        return &rec_[i];
    }
    const TombRecord* find(const TxnKey& k, Millis now) noexcept {
        return find(k, now, [](const TombRecord&, const TxnKey&) { return true; });
    }
    /// Forgets <r> (from find()): a late message made it pointless.
    void forget(const TombRecord* r) noexcept {
        if (r) forget(uint32_t(r - rec_));
    }
    /// The retained message of <r> (msg_len bytes; nullptr when none).
    const char* msg(const TombRecord& r) const noexcept {
        return r.msg_len ? bytes_ + r.t.buf : nullptr;
    }

    /// Drops the expired records at the head (call from the timer tick).
    void sweep(Millis now) noexcept {
        while (count_ && (!rec_[head_].live || rec_[head_].t.expires <= now)) pop(now);
    }

    uint32_t size() const noexcept { return live_; }       // live (indexed) tombstones
    /// The index bucket of <hash> on its way into the cache (find() or add() next).
    void prefetch(uint64_t hash) const noexcept { index_.prefetch(hash); }
    /// TxnTable::prefault() of the index (benchmarks).
    void prefault_index() noexcept { index_.prefault(); }
    uint32_t held() const noexcept { return count_; }      // records until swept, live or not
    uint32_t capacity() const noexcept { return cap_; }
    size_t bytes_used() const noexcept { return used_; }
    size_t bytes_capacity() const noexcept { return arena_; }
    uint64_t added() const noexcept { return added_; }
    /// Records dropped before their expiry to make room.
    uint64_t evicted() const noexcept { return evicted_; }
    size_t memory_bytes() const noexcept {
        return size_t(cap_) * sizeof(TombRecord) + index_.memory_bytes() + arena_;
    }

private:
    void forget(uint32_t i) noexcept {
        TombRecord& r = rec_[i];
        if (!r.live) return;
        index_.erase(r.key.hash, i);
        r.live = 0;
        live_--;
    }
    void pop(Millis now) noexcept {
        TombRecord& r = rec_[head_];
        if (r.live && r.t.expires > now) evicted_++;
        forget(head_);
        used_ -= r.charge;
        r.charge = 0;
        head_ = (head_ + 1) % cap_;
        count_--;
        // The next oldest is erased by a later add(): its bucket, on its way.
        if (count_ && rec_[head_].live) index_.prefetch(rec_[head_].key.hash);
    }

    TombRecord* rec_ = nullptr;
    char* bytes_ = nullptr;
    TxnTable index_;
    uint32_t cap_ = 0, head_ = 0, count_ = 0, live_ = 0;
    uint32_t arena_ = 0, tail_ = 0, used_ = 0;
    uint64_t added_ = 0, evicted_ = 0;
};

}  // namespace sipedge::dp
