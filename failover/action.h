#pragma once
// What the failover engine asks its caller to do: send a REGISTER or an
// OPTIONS probe, or pass a notice on. Produced by Engine and its parts
// (RegistrationAgent, the monitor) into one list the control loop drains
// (Engine::actions()), and the Via values the sending side supplies when it
// asks for the request's text (Engine::write_register / write_options).

#include <cstdint>
#include <string_view>

#include "failover/events_types.h"

namespace sipedge::failover {

enum class ActionKind : uint8_t {
    send_register,  // write_register() then send to `server` of `trunk`; expires 0 = unregister
    send_options,   // write_options() then send to `server` (sip-server monitor probe)
    notify,         // `notice` for operators (trap, log)
};

struct Action {
    ActionKind kind = ActionKind::notify;
    uint32_t trunk = 0;
    uint16_t server = 0;
    uint16_t identity = 0;
    uint32_t expires = 0;   // send_register: the Expires value
    uint32_t cseq = 0;      // send_register/send_options: the CSeq written
    uint32_t nonce = 0;     // send_options: the probe's id (Call-ID, tag, branch nonce);
                            //   a retransmission repeats it (same branch, RFC 3261 §17.1.2)
    bool retransmit = false;  // send_options: a Timer E retransmission of probe `nonce`
    Notification notice;    // notify
};

/// What the sending side puts in the Via of a REGISTER/OPTIONS it sends.
struct SendContext {
    std::string_view sent_by;  // local host:port
    std::string_view branch;   // RFC 3261 branch with the control-core tag (dp::encode_branch)
};

}  // namespace sipedge::failover
