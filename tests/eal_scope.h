#pragma once
// A real EAL for a test binary: rte_eal_init with --no-huge and a
// per-process file prefix, and a clean exit that removes the runtime
// directory the EAL leaves behind (/var/run/dpdk/<prefix>) — only this
// process's. Header-only; each test binary includes it once.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include <rte_eal.h>

namespace sipedge::test {

namespace detail {
inline std::string& eal_prefix() {  // the file prefix eal_up() passed, "" before
    static std::string p;
    return p;
}
}  // namespace detail

/// rte_eal_init with <lcores>, --no-huge -m <mem_mb>, no PCI, no shared
/// config, no telemetry, EAL logs at error, the file prefix <name><pid>, and
/// <extra> arguments (e.g. "--vdev=net_null0"). <lcores> goes with -l
/// ("0-1"), or with --lcores when it is a mapping ("(0-2)@(0-1)": it holds
/// '@' or '('). False (and a SKIP line) when the EAL does not start.
inline bool eal_up(const char* name, const char* lcores, std::initializer_list<const char*> extra = {},
                   const char* mem_mb = "512") {
    static std::string prefix, prog, lc, mem;
    static std::vector<std::string> more;
    detail::eal_prefix() = name + std::to_string(getpid());
    prefix = "--file-prefix=" + detail::eal_prefix();
    prog = name;
    lc = lcores;
    mem = mem_mb;
    more.assign(extra.begin(), extra.end());
    const bool mapping = lc.find_first_of("@(") != std::string::npos;
    std::vector<const char*> eal = {prog.c_str(), "--no-huge", "-m", mem.c_str(), "--no-pci",
                                    "--no-shconf", "--no-telemetry", mapping ? "--lcores" : "-l",
                                    lc.c_str(), "--log-level=lib.eal:error", prefix.c_str()};
    for (const std::string& a : more) eal.push_back(a.c_str());
    if (rte_eal_init(int(eal.size()), const_cast<char**>(eal.data())) < 0) {
        std::fprintf(stderr, "SKIP: EAL did not start\n");
        return false;
    }
    return true;
}

/// rte_eal_cleanup() and the runtime directory it leaves behind
/// (/var/run/dpdk/<prefix>): only this process's, the one named after the
/// prefix eal_up() gave, never another test's.
inline void eal_down() {
    const std::string dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    const std::string& own = detail::eal_prefix();
    std::error_code ec;
    if (!dir.empty() && !own.empty() && std::filesystem::path(dir).filename() == own)
        std::filesystem::remove_all(dir, ec);
}

}  // namespace sipedge::test
