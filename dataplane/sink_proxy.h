#pragma once
// A Proxy whose actions are carried out on a PacketSink at the end of every
// call (issue 13): what the worker does by hand after each call into its
// proxy, for the proxy tests and benches, which record or discard what a
// PacketSink gets. The Proxy itself calls nothing back (proxy_outbox.h).

#include "dataplane/proxy.h"
#include "dataplane/proxy_outbox.h"

namespace sipedge::dp {

class SinkProxy : public Proxy {
public:
    bool init(const ProxyConfig& cfg, uint8_t core, uint64_t seed, Millis now, PacketSink& sink,
              WorkerStats& stats) noexcept {
        sink_ = &sink;
        return Proxy::init(cfg, core, seed, now, stats);
    }
    RxAction on_datagram(Endpoint from, const char* data, size_t len, Millis now, uint8_t iface = 0,
                         bool may_pass_cancel = false) noexcept {
        const RxAction r = Proxy::on_datagram(from, data, len, now, iface, may_pass_cancel);
        carry_out();
        return r;
    }
    bool on_icmp_unreachable(Endpoint to, const char* quoted, size_t len, Millis now) noexcept {
        const bool r = Proxy::on_icmp_unreachable(to, quoted, len, now);
        carry_out();
        return r;
    }
    bool on_stream_failure(Endpoint to, const char* msg, size_t len, Millis now) noexcept {
        const bool r = Proxy::on_stream_failure(to, msg, len, now);
        carry_out();
        return r;
    }
    uint32_t on_stream_closed(Endpoint peer, Millis now) noexcept {
        const uint32_t r = Proxy::on_stream_closed(peer, now);
        carry_out();
        return r;
    }
    /// Proxy::advance() until it is done, the outbox carried out between.
    void advance(Millis now) noexcept {
        while (Proxy::advance(now)) carry_out();
        carry_out();
    }

private:
    void carry_out() noexcept { dispatch(outbox(), *sink_); }
    PacketSink* sink_ = nullptr;
};

}  // namespace sipedge::dp
