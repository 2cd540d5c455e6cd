#pragma once
// Benchmark corpus: the SIP messages under bench/sipparse/corpus/, loaded at
// run time so that the C++ carries no message text. Shared by every parser's
// benchmark so that all of them see byte-identical input.

#include <cstddef>
#include <string>
#include <vector>

namespace sipedge::bench {

/// One message file, as read (CRLF line ends, exact Content-Length).
struct CorpusMessage {
    std::string name;  // file stem, e.g. "01_invite_sdp"
    std::string data;
};

struct Corpus {
    std::vector<CorpusMessage> messages;
    size_t total_bytes = 0;
};

/// Loads every `*.sip` file in <dir>, sorted by name.
/// Accepts only well-formed test input: every line ends in CRLF, the header
/// block ends in an empty line, and Content-Length (or compact `l`) equals
/// the body size. Rejects (returns false, with the reason in <error>) an
/// unreadable or empty directory and any file breaking those rules, so a
/// broken corpus never turns into a misleading number.
bool load_corpus(const std::string& dir, Corpus& out, std::string& error);

/// Directory to load: $SIPEDGE_BENCH_CORPUS if set, else the one meson
/// compiled in (SIPEDGE_BENCH_CORPUS_DIR).
std::string corpus_dir();

}  // namespace sipedge::bench
