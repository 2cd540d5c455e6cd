#pragma once
// Helpers for the control-plane tests: a manual clock, a temporary directory
// removed at the end, a Unix-socket client and reply accessors.

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <fstream>
#include <string>

#include "control/commands.h"

namespace sipedge::ctl::test {

/// A client connection to the Unix socket <path> (-1 when it cannot
/// connect); reads time out after 5 s, so a test never hangs on a reply.
inline int connect_to(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) return -1;
    std::memcpy(a.sun_path, path.data(), path.size());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/sipedge-ctl-XXXXXX";
        const char* p = mkdtemp(tmpl);
        path = p ? p : "";
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return path + "/" + name; }
    void write(const std::string& name, const std::string& text) const { std::ofstream(file(name)) << text; }
};

inline Clock manual_clock(failover::Millis* now) {
    return [now] { return *now; };
}

inline int64_t status_of(const Json& r) { return r.get("status") ? r.get("status")->as_int() : -1; }
inline std::string error_of(const Json& r) { return r.get("error") ? r.get("error")->as_string() : ""; }

}  // namespace sipedge::ctl::test
