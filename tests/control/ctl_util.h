#pragma once
// Helpers for the control-plane tests: a manual clock, a temporary directory
// removed at the end, and reply accessors.

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "control/commands.h"

namespace sipedge::ctl::test {

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
