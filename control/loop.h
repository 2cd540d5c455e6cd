#pragma once
// The control thread's event loop, shared by sipedge (control on the main
// lcore, beside the workers) and sipedge-control (control alone): the control
// socket, SIGINT/SIGTERM through a signalfd, and a periodic tick on a
// timerfd, all in one epoll loop (control/socket.h). Control thread only.

#include <cstdint>
#include <functional>
#include <string>

#include "control/commands.h"

namespace sipedge::ctl {

class SocketServer;

struct LoopOptions {
    std::string prog = "sipedge";  // prefix of messages on stderr
    std::string socket_path = "/run/sipedge.sock";
    std::string socket_group;      // "" = the process's group
    bool verbose = false;          // log every command (passwords redacted)
    uint32_t tick_ms = 1000;       // period of <on_tick> (1-1000)
    uint64_t run_ms = 0;           // stop after this long; 0 = until SIGINT/SIGTERM
    uint32_t socket_idle_ms = 60000;  // SocketOptions::idle_ms (--socket-idle-timeout); 0 = never
};

/// Serves <ctl> on the socket and calls <on_tick> every tick_ms until a
/// signal or run_ms. <on_open> (may be empty) runs once the socket is open,
/// to add more fds to the loop. Returns 0 after a normal stop, 1 when the
/// socket or the loop failed (the message is on stderr).
int run_control_loop(Controller& ctl, const LoopOptions& opt, const std::function<void()>& on_tick,
                     const std::function<void(SocketServer&)>& on_open = {});

}  // namespace sipedge::ctl
