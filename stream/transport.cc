#include "stream/transport.h"

#include "stream/loop.h"

namespace sipedge::stream {

StreamTransport::StreamTransport(const StreamConfig& c) : loop_(std::make_unique<Loop>(c)) {}
StreamTransport::~StreamTransport() = default;

Status StreamTransport::set_client_profile(uint32_t id, const TlsClientConfig& c) {
    return loop_->set_client_profile(id, c);
}
Status StreamTransport::set_server_profile(uint32_t id, const TlsServerConfig& c) {
    return loop_->set_server_profile(id, c);
}
void StreamTransport::set_profile_knobs(uint32_t profile, const StreamKnobs& k) {
    loop_->set_profile_knobs(profile, k);
}
void StreamTransport::set_peer_profiles(const std::vector<std::pair<PeerAddr, uint32_t>>& m) {
    loop_->set_peer_profiles(m);
}
Result<PeerAddr> StreamTransport::listen(const ListenConfig& c) { return loop_->listen(c); }
Status StreamTransport::start() { return loop_->start(); }
void StreamTransport::stop() { loop_->stop(); }
void StreamTransport::close_connection(ConnId id) { loop_->post_close(id); }
Channel& StreamTransport::channel(uint32_t i) noexcept { return loop_->channel(i); }
uint32_t StreamTransport::channels() const noexcept { return loop_->channels(); }
bool StreamTransport::poll_event(StreamEvent& out) noexcept { return loop_->poll_event(out); }
bool StreamTransport::wait_event(StreamEvent& out, int timeout_ms) noexcept {
    return loop_->wait_event(out, timeout_ms);
}
int StreamTransport::event_fd() const noexcept { return loop_->event_fd(); }
void StreamTransport::event_arm() noexcept { loop_->event_arm(); }
StreamStats StreamTransport::stats() const noexcept { return loop_->stats(); }

}  // namespace sipedge::stream
