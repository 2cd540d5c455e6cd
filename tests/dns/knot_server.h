#pragma once
// Test and benchmark helper: runs Knot DNS (knotd, Debian package "knot") as a
// child process serving zones the caller writes, on a loopback address and a
// free port above 1024. Everything lives in a private temporary directory
// that is removed on destruction; the server is stopped by its PID.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sipedge::dns::testing {

class KnotServer {
public:
    /// True when knotd and knotc are installed.
    static bool available();

    /// Starts knotd on <addr> (must be in 127.0.0.0/8) and a free port, serving
    /// <zones> (origin → zone file text). Returns null and fills <err> on failure.
    static std::unique_ptr<KnotServer> start(const std::string& addr,
                                             const std::map<std::string, std::string>& zones,
                                             std::string* err);
    ~KnotServer();
    KnotServer(const KnotServer&) = delete;
    KnotServer& operator=(const KnotServer&) = delete;

    const std::string& addr() const { return addr_; }
    uint16_t port() const { return port_; }
    bool running() const { return pid_ > 0; }

    /// Replaces the zone file of <origin> and reloads it (knotc zone-reload, blocking).
    bool update_zone(const std::string& origin, const std::string& text);
    /// Expires <origin> in the running server (knotc zone-purge +expire): it
    /// then answers SERVFAIL for names in it.
    bool expire_zone(const std::string& origin);
    /// SIGTERM, then waits for the process (SIGKILL after 5 s).
    void stop();
    /// SIGSTOP / SIGCONT: the server stays bound but answers nothing.
    void pause();
    void resume();
    /// The server's log so far (for failure messages).
    std::string log() const;

private:
    KnotServer() = default;
    bool write_files(const std::map<std::string, std::string>& zones);
    bool launch(std::string* err);
    int knotc(const std::vector<std::string>& args);

    std::string dir_, addr_, conf_;
    uint16_t port_ = 0;
    pid_t pid_ = -1;
    std::vector<std::string> origins_;
};

}  // namespace sipedge::dns::testing
