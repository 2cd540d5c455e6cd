#pragma once
// What the proxy core decided to do (issue 13): the Proxy does not call out;
// each of its entry points (on_datagram, advance, ...) appends actions to its
// Outbox, and the caller carries them out afterwards (the worker: datagrams
// onto its TX batches, TCP/TLS onto the stream channel, events onto control's
// ring) and clears it. Tests read the actions as a table.
//
// Bytes an action names (a message, a trace sample) are copied into the
// outbox's arena when the action is made: the proxy's scratch buffers are
// rewritten by the next message, and a retained request may be edited (a
// rollover rewrites its Via) before the caller gets to it.
//
// Bounded, no allocation after init(). An entry point that makes a bounded
// number of actions (one message in, one timer) needs step_reserve() free,
// which an empty outbox always has; the loops that may make thousands (the
// timers due at once, a revive scan, a closed connection's resends) stop
// when less than that is free and say so (Proxy::advance() returns true: the
// caller carries out what is there, clears, and calls it again). An action
// that does not fit anyway is counted (DropReason::outbox_full), not made.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "dataplane/proxy_types.h"
#include "dataplane/trace_types.h"
#include "failover/events_types.h"

namespace sipedge::dp {

/// One thing the proxy asks its caller to do.
struct ProxyAction {
    enum class Kind : uint8_t {
        send,                 // the SIP message bytes() to <peer> (UDP, or TCP/TLS by peer.tp);
                              //   <noted>: a client request to a trunk server (note)
        report,               // failover::ServerEvent <ev> for control's engine
        to_control,           // a response to control's own request, received from <peer>
        control_unreachable,  // control's request to <peer> undeliverable: its branch in bytes()
        trace,                // a TraceSample (bytes(), 512 B) for the live trace
    };
    Kind kind = Kind::send;
    bool noted = false;
    uint32_t off = 0;  // bytes in the outbox's arena
    uint32_t len = 0;
    Endpoint peer;
    union {
        SendNote note;
        failover::ServerEvent ev;
    };
    ProxyAction() noexcept : ev() {}
};

class ProxyOutbox {
public:
    /// At most this many actions and this many bytes per step (one message
    /// in, one timer, one resend): a step makes at most 6 messages, 6 trace
    /// samples and 4 events (a rollover: the event, the ACK of the 503, the
    /// request to the next server, the upstream answer, their traces).
    static constexpr uint32_t step_actions = 16;
    static constexpr size_t step_bytes(size_t max_msg) noexcept {
        return 6 * (max_msg + 8) + 6 * (sizeof(TraceSample) + 8);
    }

    ProxyOutbox() noexcept = default;
    ~ProxyOutbox() {
        delete[] acts_;
        delete[] arena_;
    }
    ProxyOutbox(const ProxyOutbox&) = delete;
    ProxyOutbox& operator=(const ProxyOutbox&) = delete;

    /// <actions> action records and an arena of <bytes>; each at least two
    /// steps (<max_msg>: the largest message one action carries). Start-up.
    bool init(uint32_t actions, size_t bytes, size_t max_msg) noexcept {
        reserve_bytes_ = step_bytes(max_msg);
        if (actions < 2 * step_actions) actions = 2 * step_actions;
        if (bytes < 2 * reserve_bytes_) bytes = 2 * reserve_bytes_;
        delete[] acts_;
        delete[] arena_;
        acts_ = new (std::nothrow) ProxyAction[actions];
        arena_ = new (std::nothrow) char[bytes];
        if (!acts_ || !arena_) return false;
        cap_ = actions;
        bytes_cap_ = bytes;
        clear();
        return true;
    }

    /// Room for one more step (see the header).
    bool has_step() const noexcept {
        return cap_ - n_ >= step_actions && bytes_cap_ - used_ >= reserve_bytes_;
    }

    const ProxyAction* begin() const noexcept { return acts_; }
    const ProxyAction* end() const noexcept { return acts_ + n_; }
    uint32_t size() const noexcept { return n_; }
    bool empty() const noexcept { return n_ == 0; }
    const ProxyAction& operator[](uint32_t i) const noexcept { return acts_[i]; }
    const char* bytes(const ProxyAction& a) const noexcept { return arena_ + a.off; }
    size_t bytes_used() const noexcept { return used_; }
    uint32_t capacity() const noexcept { return cap_; }
    size_t bytes_capacity() const noexcept { return bytes_cap_; }
    /// Once every action is carried out.
    void clear() noexcept { n_ = 0, used_ = 0; }

    // The proxy's side. False when it does not fit (the caller counts it).
    bool send(Endpoint to, const char* d, size_t n, const SendNote* note) noexcept {
        ProxyAction* a = add(ProxyAction::Kind::send, to, d, n);
        if (!a) return false;
        if (note) a->note = *note, a->noted = true;
        return true;
    }
    bool report(const failover::ServerEvent& ev) noexcept {
        ProxyAction* a = add(ProxyAction::Kind::report, {}, nullptr, 0);
        if (!a) return false;
        a->ev = ev;
        return true;
    }
    bool to_control(Endpoint from, const char* d, size_t n) noexcept {
        return add(ProxyAction::Kind::to_control, from, d, n) != nullptr;
    }
    bool control_unreachable(Endpoint to, const char* branch, size_t n) noexcept {
        return add(ProxyAction::Kind::control_unreachable, to, branch, n) != nullptr;
    }
    bool trace(const TraceSample& s) noexcept {
        return add(ProxyAction::Kind::trace, {}, reinterpret_cast<const char*>(&s), sizeof s) != nullptr;
    }

private:
    ProxyAction* add(ProxyAction::Kind k, Endpoint peer, const char* d, size_t n) noexcept {
        const size_t at = (used_ + 7) & ~size_t(7);  // 8-aligned: a TraceSample is read in place
        if (n_ == cap_ || at > bytes_cap_ || n > bytes_cap_ - at) return nullptr;
        ProxyAction& a = acts_[n_++];
        a.kind = k;
        a.noted = false;
        a.peer = peer;
        a.off = uint32_t(at);
        a.len = uint32_t(n);
        if (n) std::memcpy(arena_ + at, d, n);
        used_ = at + n;
        return &a;
    }

    ProxyAction* acts_ = nullptr;
    char* arena_ = nullptr;
    uint32_t cap_ = 0, n_ = 0;
    size_t bytes_cap_ = 0, used_ = 0;
    size_t reserve_bytes_ = 0;
};

/// Carries out every action of <out> on <sink>, in order, and clears it.
inline void dispatch(ProxyOutbox& out, PacketSink& sink) noexcept {
    for (const ProxyAction& a : out) {
        switch (a.kind) {
        case ProxyAction::Kind::send:
            sink.send_sip(a.peer, out.bytes(a), a.len, a.noted ? &a.note : nullptr);
            break;
        case ProxyAction::Kind::report: sink.report(a.ev); break;
        case ProxyAction::Kind::to_control: sink.to_control(a.peer, out.bytes(a), a.len); break;
        case ProxyAction::Kind::control_unreachable:
            sink.control_unreachable(a.peer, out.bytes(a), a.len);
            break;
        case ProxyAction::Kind::trace:
            sink.trace(*reinterpret_cast<const TraceSample*>(out.bytes(a)));
            break;
        }
    }
    out.clear();
}

}  // namespace sipedge::dp
