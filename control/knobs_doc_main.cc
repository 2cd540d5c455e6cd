// sipedge-knobs-doc: docs/knobs.md's knob tables from control/knob_table.cc
// (issue 13; control/knob_doc.h). A developer tool, not installed:
// scripts/gen-knobs-doc.sh builds and runs it.
//
//   sipedge-knobs-doc                 every section's table, with its markers, on stdout
//   sipedge-knobs-doc FILE            rewrite FILE's generated tables in place
//   sipedge-knobs-doc --check FILE    exit 1, naming the first stale line, when FILE is not current
//
// Exit status: 0 done (or current); 1 stale (--check), unreadable or refused
// (markers); 2 usage.

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "control/knob_doc.h"

using namespace sipedge::ctl;

namespace {

int usage() {
    std::fprintf(stderr, "usage: sipedge-knobs-doc [[--check] FILE]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    bool check = false;
    std::string path;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--check") check = true;
        else if (!a.empty() && a[0] != '-' && path.empty()) path = a;
        else return usage();
    }
    if (path.empty()) {
        if (check) return usage();
        std::fputs(knobs_markdown().c_str(), stdout);
        return 0;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "sipedge-knobs-doc: cannot read %s\n", path.c_str());
        return 1;
    }
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto want = knobs_doc_update(doc);
    if (!want) {
        std::fprintf(stderr, "sipedge-knobs-doc: %s: %s\n", path.c_str(), want.error().message.c_str());
        return 1;
    }
    if (want.value() == doc) return 0;
    if (check) {
        std::fprintf(stderr, "sipedge-knobs-doc: %s is stale at %s\nregenerate: %.*s\n", path.c_str(),
                     first_line_difference(doc, want.value()).c_str(), int(knobs_regen_command.size()),
                     knobs_regen_command.data());
        return 1;
    }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << want.value();
        if (!out.flush()) {
            std::fprintf(stderr, "sipedge-knobs-doc: cannot write %s\n", tmp.c_str());
            return 1;
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::fprintf(stderr, "sipedge-knobs-doc: cannot replace %s\n", path.c_str());
        return 1;
    }
    std::fprintf(stderr, "sipedge-knobs-doc: %s updated\n", path.c_str());
    return 0;
}
