#pragma once
// The stateful UDP proxy core of one worker (RFC 3261 §16 with §17
// transactions): requests from the access side get a server transaction
// (retransmissions absorbed, 100 Trying for INVITE) and a client transaction
// towards the trunk's candidates in the published failover::Table, walked per
// failover::RetryState (rollover on timeout, 503, ICMP); what each server did
// goes to control as a failover::ServerEvent (a report action); responses
// to control's own REGISTER/OPTIONS (branch core = control_core) go to
// control unchanged (a to_control action); responses are matched to the client
// transaction by the branch we wrote (dataplane/branch.h: slot, generation,
// attempt, owning core: no table lookup) and relayed upstream through the
// server transaction with our Via removed. Record-Route keeps in-dialog
// requests on this path; loose routing (§16.4, §16.12) removes our own Route.
// No open relay (issue 16, docs/security.md): our Record-Route carries a
// keyed token of the dialog (access_policy.h); a Route or in-dialog
// Request-URI is followed only behind it or towards an access-side
// destination (else 403; a loop 482); the ACKs of our stateless rejections
// are absorbed (RejectRing); malformed requests with a Via get 400. Access
// peers and the per-source flood guard (flood_guard.h) decide before a new
// out-of-dialog request from the access side takes a slot (guard_ok()).
// CANCEL follows its INVITE's branch (§9.1, §16.10); ACK for a 2xx is
// forwarded end to end (§16.11-style stateless forwarding).
//
// No DPDK, no allocation after init(), no exceptions: the worker feeds UDP
// payloads in, with time injected, and carries out the actions each call
// leaves in outbox() (dataplane/proxy_outbox.h: send, report, to control,
// trace); the proxy calls nothing back, so tests/dataplane drives it alone
// and reads its decisions as a table. One instance per worker core.
//
// Routing state: the proxy reads the Routes snapshot given to set_routes()
// (the worker passes the one it acquire-loaded this loop) and stores only ids
// in a transaction: trunk id, table generation and the walk's server indices
// (STYLE.md §3.1); each first send to a server looks its address up again in
// the current snapshot. Route patterns (issue 6) are looked up once, when a
// new out-of-dialog request (no To tag, not ACK/CANCEL) creates its
// transaction: Routes::outbound for access-side requests (the winning
// pattern's trunk; else the default trunk; else 404), Routes::inbound for
// carrier-side ones (the winning pattern's access target; else `access`;
// else 404), with this core's scratch (scratch[core]). A request already in
// flight keeps the trunk id it was routed to whatever is published later.
//
// Memory: `max_txns` slots, half server slots (128 bytes) and half client
// slots (256: the walk, branch, hiding and RTT state), + 32 bytes of timer
// node and ~15 of index per slot; retained-message slots of 640 B to 2 KiB
// (`max_txns` each) and 4/8 KiB ones (MsgPool); and 8 tombstones per slot
// (~140 bytes each with index and message ring: proxy_tomb.cc). Reserved at
// start, resident as far as traffic has used it (the message pool's and the
// tombstone index's pages on first write). A request is retained in the
// smallest slot holding it (issue 15; a rollover that lengthens it moves it:
// grow()); a server side takes a buffer only for a response to repeat (its 100
// Trying is rebuilt, not retained): a pending INVITE of 700 bytes holds a
// server and a client slot and one 896-byte buffer (1.43 KB measured with the
// slots' 12.5 % headroom, dp_pending_bench).
// A slot and its buffer are held only while the transaction is active: once
// it only absorbs late copies it is a tombstone (issue 16).

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/access_policy.h"
#include "dataplane/branch.h"
#include "dataplane/flood_guard.h"
#include "dataplane/msg_pool.h"
#include "dataplane/proxy_outbox.h"
#include "dataplane/proxy_types.h"
#include "dataplane/stats_types.h"
#include "dataplane/timer_wheel.h"
#include "dataplane/tomb_store.h"
#include "dataplane/transaction.h"
#include "dataplane/txn_key.h"
#include "dataplane/txn_table.h"
#include "failover/table.h"
#include "sipparse/message.h"
#include "sipparse/rewrite.h"

namespace sipedge::dp {

/// The IPv4 address of <c> (family 4: addr[0..3] in network order), host order.
inline uint32_t candidate_ip(const failover::Candidate& c) noexcept {
    return uint32_t(c.addr[0]) << 24 | uint32_t(c.addr[1]) << 16 | uint32_t(c.addr[2]) << 8 |
           c.addr[3];
}

/// <u>'s host and port when the host is an IPv4 literal (port 5060 when absent).
bool uri_endpoint(const sip::Uri& u, const char* d, Endpoint& e) noexcept;

class Proxy {
public:
    Proxy() noexcept = default;
    ~Proxy();
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    /// Start-up: sizes every pool from <cfg>. False when memory is short or
    /// <cfg> has no transaction slots.
    bool init(const ProxyConfig& cfg, uint8_t core, uint64_t seed, Millis now,
              WorkerStats& stats) noexcept;

    /// What the calls since the last clear decided, in order. Every entry
    /// point below appends to it and expects room for one step
    /// (ProxyOutbox::has_step(): an emptied outbox); the caller carries the
    /// actions out (dispatch() onto a PacketSink) and clears it.
    ProxyOutbox& outbox() noexcept { return out_; }

    /// What the caller does with the datagram after on_datagram().
    enum class RxAction : uint8_t {
        done,         // handled (the proxy copied what it keeps)
        pass_cancel,  // a CANCEL matching nothing here, not answered: the caller
                      // passes it to the next worker, which may hold its INVITE
    };
    /// A UDP payload for our SIP port from <from>, received on interface
    /// <iface> (ProxyConfig::ifaces index). Accepts requests and responses;
    /// anything unparseable is counted (and answered 400 when it is a
    /// request with enough headers to answer). <may_pass_cancel>: another
    /// worker may still hold the INVITE of a CANCEL that matches nothing
    /// here (RSS put a caller's CANCEL from another source port elsewhere):
    /// return pass_cancel instead of answering 481.
    RxAction on_datagram(Endpoint from, const char* data, size_t len, Millis now, uint8_t iface = 0,
                         bool may_pass_cancel = false) noexcept;

    /// ICMP destination unreachable about a datagram we sent to <to>; <quoted>
    /// is what the ICMP message quotes of its UDP payload (often truncated).
    /// Returns true when it named one of our client transactions.
    bool on_icmp_unreachable(Endpoint to, const char* quoted, size_t len, Millis now) noexcept;
    /// Issue 14: the request <msg> we sent to <to> over TCP/TLS was not
    /// delivered, its connection failed (refused, timed out, TLS refused):
    /// the client transaction it names rolls over at once (ClientTxn::
    /// on_transport_error). True when it named the current attempt of one.
    bool on_stream_failure(Endpoint to, const char* msg, size_t len, Millis now) noexcept;
    /// The stream thread closed an open connection it had opened to <peer>
    /// (msg_closed: FIN/RST, not a failover trigger). Requests sent to <peer>
    /// still without any answer are resent, on a new connection (what was
    /// written into the closed one may be lost). One scan of the slots does
    /// it, now when none ran for close_scan_ms(), else at the advance() after
    /// that (the closes in between gathered: a carrier closing connections
    /// by the hundred costs one scan per interval). Returns how many were
    /// resent now.
    uint32_t on_stream_closed(Endpoint peer, Millis now) noexcept;

    /// Runs the timers due at <now>, and the scans revive() and
    /// on_stream_closed() left unfinished. True when the outbox filled
    /// before all of it was done: carry the actions out, clear, and call
    /// again (the rest runs first, before later timers).
    bool advance(Millis now) noexcept;

    /// The routing snapshot for what follows; <r> must stay valid until the
    /// next call (the worker's RCU read side). nullptr: no routes (new
    /// requests are answered 503).
    void set_routes(const Routes* r) noexcept { routes_ = r; }

    /// Live trace (issue 7): while <on>, every SIP message received (parsed)
    /// and sent is copied into a TraceSample (a trace action). The
    /// worker sets it once per burst from control's flag; off costs nothing.
    void set_trace(bool on) noexcept { trace_on_ = on; }

    /// The worker's microsecond clock, read with the millisecond <now> it
    /// passes in: RTT samples for the failover engine (first send of an
    /// attempt → the server's first response). Never set (tests): <now> × 1000.
    void set_clock_us(uint64_t us) noexcept { now_us_ = us; }

    uint32_t active_slots() const noexcept { return (nc_ - nfree_c_) + (ns_ - nfree_s_); }
    uint32_t retained_messages() const noexcept { return bufs_.used(); }
    /// Completed transactions kept as tombstones (issue 16, proxy_tomb.cc).
    const TombStore& tombstones() const noexcept { return tombs_; }
    const MsgPool& retained_pool() const noexcept { return bufs_; }
    /// Makes the indexes' pages resident now (the transaction and tombstone
    /// indexes are zero pages until first written: a worker pays those first
    /// touches during its first traffic). For benchmarks of the steady state.
    void prefault_indexes() noexcept {
        table_.prefault();
        tombs_.prefault_index();
    }
    /// The fullest of the pools a new request needs (transaction slots, index,
    /// timers, small retained-message slots, and the class of a <need>-byte
    /// request), in percent; a new out-of-dialog request is answered 503 at
    /// ProxyConfig::overload_percent.
    uint32_t load_percent(size_t need = 0) const noexcept;
    /// What a forwarded request gains at most (our Via, ~80 bytes, and a
    /// double Record-Route, ~2 × 85): the overload check's estimate of the
    /// retained-message class a new request of n bytes takes (n + this).
    static constexpr size_t retained_headroom = 256;

private:
    static constexpr uint32_t npos = ~uint32_t(0);
    static constexpr size_t max_walk = 16;  // failover::max_candidates
    enum class SlotKind : uint8_t { free = 0, server, client };

    // A transaction slot (issue 15: a server and a client slot apart, so that a
    // pending INVITE's server side costs 128 bytes, not a client slot's 256).
    // Slot ids are one space: client slots are [0, nc_) (a branch names one),
    // server slots [nc_, nc_ + ns_); head(id) reaches what both kinds have.
    struct SlotHead {
        TimerHandle timer;
        Endpoint addr;           // server: upstream; client: current destination
        uint32_t peer = npos;    // server <-> client of one proxied request
        uint16_t gen = 0;        // bumped on every allocation (branch generation)
        SlotKind kind = SlotKind::free;
        uint8_t pad_ = 0;
    };
    // `t.s` / `t.c`: the transaction, named as in the union both kinds once shared.
    struct ServerSlot : SlotHead {
        struct {
            ServerTxn s;
        } t;
        TxnKey key;                     // its TxnTable key
        bool cancel_requested = false;  // INVITE: a CANCEL was acted on
        bool answered = false;          // INVITE: a 2xx was relayed (call counted)
        bool failed = false;            // INVITE: a final >= 300 was sent (call counted)
    };
    // Fields by size, so that it packs into 256 bytes.
    struct ClientSlot : SlotHead {
        struct {
            ClientTxn c;
        } t;
        uint64_t sent_us = 0;    // first send of the current attempt
        uint32_t list_epoch = 0; // (trunk): the trunk's server-list epoch when routed
        uint32_t trunk_id = 0;   // (trunk): engine trunk id
        uint32_t cancel = npos;  // INVITE: its CANCEL's client slot
        uint32_t nonce = 0;      // branch nonce
        uint32_t rtt_us = 0;     // the current attempt's RTT sample (0: none)
        uint16_t branch_off = 0; // branch offset inside the retained request
        uint16_t rr_off = 0;     // our Record-Route value in the retained request (rr_len
                                 //   0: none)
        uint16_t ruri_off = 0;   // (request-uri-host server): host[:port] of the retained
                                 //   Request-URI, rewritten per server (ruri_len 0: keep)
        uint16_t retry_after_s = 0;  // smallest Retry-After of this walk's 503s (0: none)
        // Topology hiding (proxy_hide.cc, issue 16): sent hidden (hide_up), the access Via
        // lines (hv_len bytes) and, for a dialog-creating request, Record-Route lines
        // (hr_len) are kept at the end of the buffer and given back to the responses.
        uint16_t hv_len = 0;
        uint16_t hr_len = 0;
        uint16_t last_tx = 0;    // when it was last sent (ms, low 16 bits of now_: revive()
                                 //   compares within seconds)
        uint8_t walk_n = 0;      // (trunk): servers in walk[]
        uint8_t walk[max_walk] = {};  // (trunk): server_idx per walk position
        uint8_t via_if = 0;      // the interface our Via/Record-Route name
        sip::Transport via_tp = sip::Transport::udp;  // and the transport (issue 14)
        uint8_t in_if = 0;       // the interface the request came in on
        sip::Transport in_tp = sip::Transport::udp;  // and its transport (issue 14)
        uint8_t rr_len = 0;
        uint8_t ruri_len = 0;
        uint8_t close_resends = 0;  // resent by on_stream_closed() in this attempt (at
                                    //   most max_close_resends: a server closing every connection)
        bool direct = false;     // goes to `addr`, not to the trunk's servers
        bool rtt_open = false;   // sent_us awaits the attempt's first answer; off once
                                 //   answered or retransmitted (Karn: then no sample)
        bool revived = false;    // resent by revive() in this attempt (once: a server
                                 //   that answers some requests and ignores others is not flooded)
        bool hide_up = false;
        bool hide_down = false;  // its responses go up to a hidden carrier (Contact
                                 //   encoded, access-side Record-Routes cut)
        bool th = false;         // our Record-Route carries ;th (a hidden dialog)
    };

    static_assert(sizeof(SlotHead) == 24 && sizeof(ServerSlot) <= 128 && sizeof(ClientSlot) <= 256);

    SlotHead& head(uint32_t i) noexcept {
        return i < nc_ ? static_cast<SlotHead&>(cli_[i]) : static_cast<SlotHead&>(srv_[i - nc_]);
    }
    const SlotHead& head(uint32_t i) const noexcept {
        return i < nc_ ? static_cast<const SlotHead&>(cli_[i])
                       : static_cast<const SlotHead&>(srv_[i - nc_]);
    }
    /// The client slot <i> (< nc_) and the server slot <i> (>= nc_): a caller
    /// that holds an id of the other kind has a bug (asserted in debug builds).
    ClientSlot& cli(uint32_t i) noexcept {
        assert(i < nc_);
        return cli_[i];
    }
    const ClientSlot& cli(uint32_t i) const noexcept {
        assert(i < nc_);
        return cli_[i];
    }
    ServerSlot& srv(uint32_t i) noexcept {
        assert(i >= nc_ && i - nc_ < ns_);
        return srv_[i - nc_];
    }
    const ServerSlot& srv(uint32_t i) const noexcept {
        assert(i >= nc_ && i - nc_ < ns_);
        return srv_[i - nc_];
    }
    bool is_client(uint32_t i) const noexcept { return i < nc_ && cli_[i].kind == SlotKind::client; }
    bool is_server(uint32_t i) const noexcept {
        return i >= nc_ && i - nc_ < ns_ && srv_[i - nc_].kind == SlotKind::server;
    }

    // What route() decided (issue 16: no open relay).
    enum class Verdict : uint8_t {
        ok,         // Target filled in
        not_found,  // 404: no target (no default trunk / access target; a name, not a literal)
        forbidden,  // 403: a target this request may not go to (counted by reason)
        loop,       // 482: a Route naming us after ours, or a next hop that is us
    };

    // Where a request goes (route()).
    struct Target {
        Endpoint addr;
        uint32_t trunk_id = ~0u; // trunk: engine trunk id (pattern or default trunk)
        bool trunk = false;      // the trunk's server list (addr unused)
        uint8_t strip_routes = 0;// our own Route values on top (§16.4; two after a
                                 // double Record-Route, RFC 5658)
        bool th = false;         // our verified Route carries ;th: a hidden dialog (issue 16)
        bool unhide = false;     // the Request-URI named us with our ;sxh=: ruri_ holds the
                                 // Contact it stands for (ruri_len_ bytes), addr its address
    };

    void on_request(Endpoint from, const char* d, size_t n) noexcept;
    size_t ruri_with_host(const failover::TrunkRoutes& tr, Endpoint server, const char* d, size_t& host_at,
                          size_t& host_len) noexcept;
    bool retarget_ruri(ClientSlot& c, Endpoint to) noexcept;
    void on_response(Endpoint from, const char* d, size_t n) noexcept;
    void on_cancel(Endpoint up, const char* d, size_t n) noexcept;
    /// <key>: the request's server-transaction key (on_request() made it).
    void new_transaction(Endpoint up, const char* d, size_t n, const TxnKey& key) noexcept;
    void forward_stateless(Endpoint from, const char* d, size_t n) noexcept;
    Verdict route(Endpoint from, const char* d, Target& t) noexcept;
    void refuse(Verdict v, Endpoint up, const char* d, size_t n) noexcept;
    // <th>, when given: whether <u> has a `th` parameter (a hidden dialog),
    // found in the same walk over its parameters.
    bool token_ok(const sip::Uri& u, const char* d, bool* th = nullptr) const noexcept;
    bool access_dest(uint32_t ip) const noexcept;
    bool own_ip(uint32_t ip) const noexcept;
    bool absorb_ack(const char* d) noexcept;
    const char* reject_tag(const char* req, size_t n) noexcept;
    bool match_pattern(const PatternRoutes& p, uint32_t src, const char* d,
                       uint32_t& target) noexcept;

    void run_client(uint32_t slot, const TxnOut& out, const char* rsp, size_t rsp_n) noexcept;
    void run_server(uint32_t slot, const TxnOut& out, const char* up, size_t up_n,
                    const char* req, size_t req_n, Endpoint req_from) noexcept;
    void on_timer(uint64_t cookie) noexcept;
    void timer_action(uint32_t slot, const TxnAction& a) noexcept;
    void send_client_request(uint32_t slot, const TxnAction& a) noexcept;
    bool rehome(ClientSlot& c, uint8_t iface, sip::Transport tp) noexcept;
    /// Client <c>'s retained request gets room for <need> bytes of message
    /// (its hidden lines kept at the end): a larger slot when its own is too
    /// small (issue 15: messages are retained at their size). False when none
    /// is free; nothing changed then.
    bool grow(ClientSlot& c, size_t need) noexcept;
    // Room a retained request is given beyond its size: retarget_ruri()'s
    // longest host ("255.255.255.255:65535") over the shortest.
    static constexpr size_t retained_slack = 16;

    void send_ack(uint32_t slot, uint16_t server, const char* rsp) noexcept;
    /// CANCEL for the INVITE in <invite_slot>: its current branch, or the
    /// branch (attempt, server) <branch> names (provisional-timeout).
    void start_cancel(uint32_t invite_slot, const TxnAction* branch = nullptr) noexcept;
    void relay_response(uint32_t client_slot, uint16_t status, const char* rsp,
                        size_t rsp_n) noexcept;
    void fail_upstream(uint32_t client_slot, TxnReason why) noexcept;
    bool send_trying(Endpoint to, const char* req, size_t req_n) noexcept;
    void count_final(uint32_t server_slot, uint16_t status) noexcept;
    Endpoint client_dest(const ClientSlot& s, uint16_t server) const noexcept;
    bool lookup_server(ClientSlot& s, uint16_t pos) noexcept;
    void report(const ClientSlot& c, uint16_t pos, failover::EventKind k, uint16_t status,
                uint32_t retry_after_s) noexcept;
    bool from_carrier(uint32_t ip) const noexcept;
    bool undeliverable(Endpoint to, const char* quoted, size_t len, Millis now, bool connection) noexcept;

    /// <partial>: answer even without From/To/Call-ID/CSeq (a Via is enough:
    /// requests parse() refused). True when a response was sent.
    bool reply_stateless(Endpoint to, const char* req, size_t n, uint16_t status,
                         const char* reason, bool partial = false) noexcept;
    std::string_view retry_after_line(uint32_t seconds) noexcept;
    void send(Endpoint to, const char* d, size_t n, bool request, const SendNote* note = nullptr) noexcept;
    /// The trunk server client <c> sends to at walk position <pos> (nullptr:
    /// not a trunk walk); written into note_.
    const SendNote* note_for(const ClientSlot& c, uint16_t pos) noexcept;
    void trace(bool sent, Endpoint peer, const char* d, size_t n, sip::Span call_id) noexcept;
    size_t our_via(const BranchId& b, uint8_t iface, sip::Transport tp, char* out) const noexcept;
    /// The largest message we send over <tp>: a UDP datagram of
    /// max_udp_payload (the worker fragments above the MTU), 65,535 bytes on
    /// a stream (sip::max_message_size).
    size_t max_payload(sip::Transport tp) const noexcept {
        return tp == sip::Transport::udp ? cfg_.max_udp_payload : sip::max_message_size;
    }
    uint8_t out_iface(uint32_t dst) const noexcept;
    bool is_self(Endpoint e) const noexcept;
    /// <token>: rr_token_len hex digits (access_policy.h) put into each value;
    /// <th>: a hidden dialog (;th before the token).
    std::string_view record_route(uint8_t in, sip::Transport in_tp, uint8_t out, sip::Transport out_tp,
                                  const char* token, bool th = false) noexcept;

    // ---- topology hiding (proxy_hide.cc, issue 16) ----
    bool hidden_carrier(uint32_t ip) const noexcept;
    /// Edits that hide msg_ (from <d>) from a carrier reached by <oif>: every
    /// access Via line goes, the first Contact names us with ;sxh=. Called
    /// after every insertion (our Via, our Record-Route): an insertion at a
    /// removed line's place must be recorded first. A dialog-creating
    /// request's Record-Route lines go by hide_record_routes(). What goes is
    /// kept by keep_hidden() after the rewrite.
    bool hide_request(sip::Rewriter& rw, const char* d, uint8_t oif) noexcept;
    /// A hidden dialog-creating request's access Record-Route lines off (after
    /// add_record_route(), which inserts at the same place).
    bool hide_record_routes(sip::Rewriter& rw) noexcept;
    /// Bytes hide_request() takes off msg_ (from <d>) that keep_hidden() keeps.
    size_t hidden_size(const char* d, bool dialog) const noexcept;
    /// Copies msg_'s Via lines (and Record-Route lines) from <d> to the end
    /// of client <c>'s buffer; false when they do not fit.
    bool keep_hidden(ClientSlot& c, const char* d, bool dialog) noexcept;
    /// Bytes of <c>'s buffer the message may use (the rest keeps hidden lines).
    size_t room(const ClientSlot& c) const noexcept;
    /// The first Contact of msg_ rewritten to name us at <iface> with ;sxh=.
    bool hide_contact(sip::Rewriter& rw, const char* d, uint8_t iface) noexcept;
    /// A URI naming us with our ;sxh=: the address it encodes and the URI
    /// restored into out[0, cap) (its length). 0: none; ~0: a ;sxh= not ours.
    size_t unhide_uri(const sip::Uri& u, const char* d, Endpoint& to, char* out, size_t cap) noexcept;
    /// Response edits for client <c>: its saved Vias in place of ours (instead
    /// of remove_top_via()), its saved Record-Routes after ours, the Contact
    /// restored when it is one we encoded (a REGISTER's 200).
    bool unhide_response(sip::Rewriter& rw, const ClientSlot& c, const char* rsp, uint16_t status) noexcept;
    /// Response edits toward a hidden carrier: Contact encoded, Record-Route
    /// values above ours cut.
    bool hide_response(sip::Rewriter& rw, const ClientSlot& c, const char* rsp) noexcept;
    char contact_[320] = {};    // a Contact URI being written (outlives the Rewriter)
    char ruri_[320] = {};       // a Request-URI restored by unhide_uri() (route())
    uint16_t ruri_len_ = 0;
    const char* next_to_tag() noexcept;

    uint32_t alloc_slot(SlotKind k) noexcept;
    void free_slot(uint32_t slot) noexcept;
    bool slot_ok(uint32_t slot, const BranchId& b) const noexcept;
    uint64_t now_us() const noexcept { return now_us_ ? now_us_ : uint64_t(now_) * 1000; }

    ProxyConfig cfg_{};
    const Routes* routes_ = nullptr;
    ProxyOutbox out_;
    WorkerStats* st_ = nullptr;
    uint64_t seed_ = 0;
    Millis now_ = 0;
    uint64_t now_us_ = 0;            // set_clock_us()
    uint8_t core_ = 0;
    uint32_t nonce_ = 0;
    bool trace_on_ = false;          // set_trace()
    uint32_t trace_trunk_ = ~0u;     // trunk id of the request being sent (trace only)
    TraceSample trace_buf_;          // staging for a trace action (512 B: not on the stack)
    SendNote note_;                  // note_for()'s result

    ClientSlot* cli_ = nullptr;  // client slots, ids [0, nc_)
    ServerSlot* srv_ = nullptr;  // server slots, ids [nc_, nc_ + ns_)
    uint32_t* free_c_ = nullptr; // stacks of free slot ids
    uint32_t* free_s_ = nullptr;
    uint32_t nfree_c_ = 0;
    uint32_t nfree_s_ = 0;
    uint32_t nc_ = 0;
    uint32_t ns_ = 0;
    uint32_t nslots_ = 0;        // nc_ + ns_ (ProxyConfig::max_txns)
    TxnTable table_;
    TimerWheel wheel_;
    MsgPool bufs_;

    Ifaces ifs_;                // our interfaces (at least one)
    uint8_t in_if_ = 0;         // the interface the datagram in hand came in on
    char self_host_[2][Ifaces::max][24] = {};  // [SIP port, TLS port][interface]: "a.b.c.d:port"
    uint8_t self_host_len_[2][Ifaces::max] = {};
    /// Our "a.b.c.d:port" on interface <f> for <tp>: the TLS port over TLS
    /// (ProxyConfig::tls_port when set), else the SIP port.
    std::string_view host_of(uint8_t f, sip::Transport tp) const noexcept {
        const int k = tp == sip::Transport::tls ? 1 : 0;
        return {self_host_[k][f], self_host_len_[k][f]};
    }
    char rr2_[160] = {};        // "<sip:out;lr;sx=T>,<sip:in;transport=tcp;lr;sx=T>" being inserted
    char retry_after_[32] = {}; // "Retry-After: N\r\n" being added to a 503 we generate
    char via_[96] = {};         // Via value being inserted (outlives the Rewriter)
    char to_tag_[16] = {};
    RejectRing rejects_;        // stateless rejections of INVITEs awaiting their ACK (issue 16)
    bool may_pass_cancel_ = false;  // on_datagram()'s argument, for on_cancel()
    bool cancel_passed_ = false;    // on_cancel() left the CANCEL to the next worker
    FloodGuard guard_;          // access peers' rate buckets and the per-source flood guard
    const AccessPeers* guard_peers_ = nullptr;  // the peer set guard_'s buckets belong to
    sip::Message msg_{};        // the datagram being handled
    sip::Message aux_{};        // a retained message re-parsed (ACK/CANCEL/408 building)
    char scratch_[MsgPool::max_size];
    char scratch2_[MsgPool::max_size];
    char trying_[2048];  // a 100 Trying being sent (never retained)

    // ---- overload control and tombstones (proxy_tomb.cc, issue 16) ----
    // A completed transaction that only absorbs late copies gives its slot and
    // buffer back and becomes a record in tombs_. run_client()/run_server()
    // note the slot they drive (RunScope); when the outermost of them returns,
    // flush_retire() turns the noted slots that reached such a state into
    // tombstones (clients first: an INVITE's 2xx tombstone takes its upstream
    // address from the server slot). Nothing else keeps a slot across that point.
    struct RunScope {
        Proxy& p;
        RunScope(Proxy& px, uint32_t slot, const char* rsp = nullptr) noexcept : p(px) {
            p.run_depth_++;
            p.note_run(slot);
            if (rsp) p.cur_rsp_ = rsp;
        }
        ~RunScope() {
            if (--p.run_depth_ == 0) p.flush_retire();
        }
        RunScope(const RunScope&) = delete;
        RunScope& operator=(const RunScope&) = delete;
    };
    bool init_tombs() noexcept;
    /// new_transaction()'s first step: a late copy of a completed request is
    /// answered from its tombstone; above the watermark a new out-of-dialog
    /// request gets 503 + Retry-After. False: handled, nothing more to do.
    bool admit_new(Endpoint up, const char* d, size_t n, const TxnKey& key) noexcept;
    /// The access guard (issue 16, Routes::access_peers): an out-of-dialog
    /// request from the access side from no peer's networks (403), over its
    /// peer's rate or from a flooding source (503 + Retry-After, or dropped).
    /// False: refused.
    bool guard_ok(Endpoint up, const char* d, size_t n) noexcept;
    bool tomb_request(const TxnKey& key) noexcept;
    // A server gone silent on transactions in flight (a retransmission sent,
    // still no answer): the first sign of life from it (any response to us,
    // an OPTIONS probe's answer on its way to control) resends at once what
    // still waits on it, instead of at the next Timer A/E tick up to T2 (4 s)
    // later — a BYE sent into a 30 s outage is answered as soon as the carrier
    // is back, not after the caller's 32 s gave up. An extra retransmission;
    // the timers keep their schedule.
    struct Silent {
        uint32_t ip = 0;
        uint16_t port = 0;
    };
    static constexpr uint8_t max_silent = 8;
    // revive() resends only what was last sent before the request whose
    // answer woke it (answered_sent_, ms, low 16 bits); an answer to none of
    // ours stands for a request sent this long ago (T1's default).
    static constexpr uint16_t revive_fresh_ms = 500;
    // on_stream_closed() resends one request at most this often per attempt
    // (each copy on a new connection; a carrier closing busy connections
    // can take two in a row).
    static constexpr uint8_t max_close_resends = 3;
    uint16_t answered_sent_ = 0;
    Silent silent_[max_silent] = {};
    uint8_t silent_n_ = 0;
    uint8_t silent_next_ = 0;  // the entry a full set replaces
    Millis next_revive_ = 0;   // no scan before (at most one a second)
    // Peers whose connections closed since the last close scan (on_stream_closed).
    static constexpr uint8_t max_closed = 8;
    struct Closed {
        Endpoint peer;
        uint16_t at = 0;  // when the worker heard of it (ms, low 16 bits; as ClientSlot::last_tx)
    };
    Closed closed_[max_closed] = {};
    uint8_t closed_n_ = 0;
    bool closed_any_ = false;  // more than max_closed: every stream destination, up to
    uint16_t closed_any_at_ = 0;  //   the latest of those closes
    Millis next_close_scan_ = 0;
    // 10 ms, plus 1 ms per 2,048 slots (16 Ki slots: 18 ms; 2 Mi: 1.0 s):
    // scans stay a small share of the worker, whatever the table's size.
    Millis close_scan_ms() const noexcept { return 10 + nslots_ / 2048; }
    uint32_t close_scan() noexcept;
    uint32_t close_next_ = 0;   // the slot a close scan stopped at (outbox full)
    bool close_active_ = false; //   while one is unfinished
    void note_silent(Endpoint to) noexcept;
    void revive(Endpoint from) noexcept;
    bool forget_silent(Endpoint from) noexcept;
    void revive_scan() noexcept;  // from revive_next_ until done or the outbox is full
    Endpoint revive_from_;        // the server being revived
    uint16_t revive_answered_ = 0;  // answered_sent_ when it answered
    uint32_t revive_next_ = 0;    // the slot the scan goes on from
    bool revive_active_ = false;  // a scan unfinished (outbox full)
    /// An action that did not fit: counted.
    void lost(bool made) noexcept {
        if (!made) [[unlikely]] st_->drop(DropReason::outbox_full);
    }
    /// A response for no live client transaction: true when a tombstone
    /// answered or absorbed it (else the caller counts sip_stale_branch).
    bool tomb_response(const char* d, size_t n) noexcept;
    /// A CANCEL whose INVITE completed (its tombstone): §16.10 200.
    bool tomb_cancel(const TxnKey& invite_key) noexcept;
    void retire_branch(uint32_t cs, const TxnAction& a) noexcept;
    void note_run(uint32_t slot) noexcept;
    void flush_retire() noexcept;
    void retire_client(uint32_t cs) noexcept;
    void retire_server(uint32_t ss) noexcept;
    size_t build_ack(uint32_t cs, char* out, size_t cap) noexcept;

    TombStore tombs_;
    uint32_t retire_q_[8] = {};
    uint8_t retire_n_ = 0;
    uint8_t run_depth_ = 0;
    const char* cur_rsp_ = nullptr;  // the response (msg_'s bytes) run_client() drives, until the flush
    uint64_t evicted_seen_ = 0;  // tombs_.evicted() already counted in st_
};

}  // namespace sipedge::dp
