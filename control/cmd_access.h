#pragma once
// Access peers and the flood guard in the control plane (issue 16;
// control/cmd_access.cc, docs/security.md "Access peers and flood guard").
//
// access-peer <name> networks <cidr>[,<cidr>...] [invite-rps <n>] [register-rps <n>]
//             [other-rps <n>] [burst <n>]
//   the access-side networks a PBX or gateway sends from, and its request
//   rates per kind (new out-of-dialog requests/s per worker; 0 = unlimited);
// set access-guard restrict-sources on|off   a source in no peer's networks: 403
// set access-guard source-rps <n>            per-source flood guard (0 = off)
// set access-guard block <seconds>           how long a flooding source stays blocked
// set access-guard action reject|drop        503 + Retry-After, or silence
// The workers get the compiled set (AccessPeerSet::view) with every routing
// snapshot (control/dp_link.cc).

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "control/commands.h"
#include "control/state.h"
#include "dataplane/flood_guard.h"

namespace sipedge::ctl {

/// What the workers read (dp::AccessPeers) and the storage it points into.
struct AccessPeerSet {
    std::vector<dp::PeerNet> nets;      // longest prefix first
    std::vector<dp::PeerLimit> limits;  // [peer]
    std::vector<std::string> names;     // [peer]
    dp::AccessPeers view;               // nets/limits point into the vectors above
    AccessPeerSet() = default;
    AccessPeerSet(const AccessPeerSet&) = delete;
    AccessPeerSet& operator=(const AccessPeerSet&) = delete;
};

/// The set for <st>; nullptr when nothing is configured (no peer, no guard):
/// the workers then check nothing.
std::shared_ptr<const AccessPeerSet> build_access_peers(const State& st);
/// Whether two sets would make the workers decide alike.
bool same_access_peers(const AccessPeerSet* a, const AccessPeerSet* b) noexcept;

std::span<const Command> access_commands() noexcept;
/// running-config lines (after the data plane's).
void access_running_config(const State& st, std::vector<std::string>& out);

}  // namespace sipedge::ctl
