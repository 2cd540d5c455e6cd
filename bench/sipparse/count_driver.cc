// Instruction-count driver for sipparse alone: parses every corpus message
// N times (N from argv, default 2000) with the same work parse_bench's
// "sipparse" row does (parse(), then read the typed fields and the header
// index). Meant for `valgrind --tool=callgrind`: the "instructions per
// corpus message" in bench/RESULTS.md come from it (formula below); on a
// shared VM that figure is steadier than any wall-clock rate.
//
//   build-bench/bench/sipparse/count_driver 2000
//   valgrind --tool=callgrind --callgrind-out-file=cg.out
//       build-bench/bench/sipparse/count_driver 2000   (one command line)
//   per message = (Ir at 2000 - Ir at 1) / (1999 x messages)
//
// Exits 1 (and says which) when a message is refused, so a count is never
// taken over failed parses.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/sipparse/corpus.h"
#include "sipparse/message.h"

int main(int argc, char** argv) {
    using namespace sipedge;
    const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 2000;
    if (n <= 0 || n > 100000000) {
        std::fprintf(stderr, "usage: count_driver [repetitions 1..1e8]\n");
        return 2;
    }
    static bench::Corpus corpus;
    std::string error;
    if (!bench::load_corpus(bench::corpus_dir(), corpus, error)) {
        std::fprintf(stderr, "count_driver: corpus: %s\n", error.c_str());
        return 1;
    }
    static sip::Message m;
    uint64_t sink = 0;
    for (long r = 0; r < n; r++) {
        for (const bench::CorpusMessage& c : corpus.messages) {
            const char* b = c.data.data();
            if (sip::parse(b, c.data.size(), m) != sip::ParseStatus::ok || !m.top_via.has_branch) {
                std::fprintf(stderr, "count_driver: refused %s\n", c.name.c_str());
                return 1;
            }
            sink += m.cseq.number + uint8_t(m.cseq.method);
            for (const sip::Span sp : {m.call_id, m.top_via.branch, m.from.tag, m.to.tag})
                sink += sp.len + (sp.empty() ? 0 : uint8_t(b[sp.off]));
            for (uint16_t i = 0; i < m.header_count; ++i)
                sink += m.headers[i].name.len + m.headers[i].value.len + uint8_t(m.headers[i].id);
        }
    }
    std::printf("%zu messages x %ld: checksum %llu\n", corpus.messages.size(), n,
                static_cast<unsigned long long>(sink));
    return 0;
}
