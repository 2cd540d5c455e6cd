// Parser comparison: sipparse against oSIP2 and sofia-sip, on the same
// corpus (bench/sipparse/corpus/*.sip), one benchmark per parser and message
// plus one per parser over the whole corpus in a round-robin loop.
//
// Every parse is checked for success and then the fields a proxy needs on
// every packet are read (Call-ID, CSeq, top Via branch, From/To tags), so no
// parser is credited for work it skipped. A failed parse stops that benchmark
// with SkipWithError; startup prints which parser refused which message.
//
// What is compared (read before quoting the numbers):
// - sipparse parses in place into a caller-owned Message: no copy, no
//   allocation. parse() validates what a proxy uses and only locates the
//   other headers; "sipparse_strict" adds validate() (Contact, From/To URIs,
//   Expires, Retry-After, Date), nearer to the full-parse libraries below.
// - oSIP2 (osip_message_init/parse/free) copies the buffer and allocates a
//   tree of every header; the known ones are parsed into structures.
// - sofia-sip (msg_make/msg_destroy) copies the buffer into a message home
//   and parses every header it knows into structures.
// The three costs are each library's normal way to parse one datagram.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "bench/sipparse/corpus.h"
#include "sipparse/message.h"

namespace sipedge::bench {
namespace {

// First byte of a C string or 0, folded into the checksum so that reading a
// field cannot be optimised away.
inline uint64_t first_byte(const char* s) noexcept {
    return s ? uint8_t(s[0]) : 0;
}

// --- sipparse ---------------------------------------------------------------

// <Strict> false: parse() alone, the proxy fast path (RFC 3261 §16.3: headers
// a proxy does not use are located, not validated). <Strict> true: parse()
// then validate(), which holds Contact, From/To URIs, Expires, Retry-After
// and Date to their grammar as a UAS must; closer to what oSIP2 and sofia-sip
// do on every parse.
template <bool Strict>
class SipparseParser {
  public:
    static constexpr const char* name = Strict ? "sipparse_strict" : "sipparse";

    /// Parses <m> in place; adds the typed fields and the header index to
    /// <sink>. False unless the status is ok.
    bool parse(const std::string& m, uint64_t& sink) noexcept {
        const char* base = m.data();
        if (sip::parse(base, m.size(), msg_) != sip::ParseStatus::ok || !msg_.top_via.has_branch)
            return false;
        if constexpr (Strict)
            if (sip::validate(base, msg_) != sip::ParseStatus::ok) return false;
        uint64_t s = msg_.cseq.number + uint8_t(msg_.cseq.method);
        for (const sip::Span sp : {msg_.call_id, msg_.top_via.branch, msg_.from.tag, msg_.to.tag})
            s += sp.len + (sp.empty() ? 0 : uint8_t(base[sp.off]));
        for (uint16_t i = 0; i < msg_.header_count; ++i) {
            const sip::Header& h = msg_.headers[i];
            s += h.name.len + h.value.len + uint8_t(h.id);
        }
        sink += s;
        return true;
    }

    std::string failure(const std::string& m) {
        sip::ParseStatus st = sip::parse(m.data(), m.size(), msg_);
        const char* stage = "parse";
        if (st == sip::ParseStatus::ok && !msg_.top_via.has_branch)
            return "ok but the top Via has no branch";
        if (st == sip::ParseStatus::ok && Strict) {
            st = sip::validate(m.data(), msg_);
            stage = "validate";
        }
        if (st == sip::ParseStatus::ok) return "ok";
        const char* status = st == sip::ParseStatus::incomplete ? "incomplete" : "invalid";
        std::string out = std::string(stage) + ": status=" + status + " error=" +
                          std::to_string(int(msg_.error)) + " (" +
                          sip::error_reason(msg_.error) + ") error_off=" +
                          std::to_string(msg_.error_off) + " error_header=" +
                          std::to_string(int(msg_.error_header));
        if (msg_.error_off < m.size()) {
            const size_t eol = m.find("\r\n", msg_.error_off);
            out += " at: \"" + m.substr(msg_.error_off, std::min<size_t>(eol - msg_.error_off, 60)) +
                   "\"";
        }
        return out;
    }

  private:
    sip::Message msg_;
};

// --- oSIP2 ------------------------------------------------------------------

class OsipParser {
  public:
    static constexpr const char* name = "osip2";

    bool parse(const std::string& m, uint64_t& sink) noexcept {
        osip_message_t* sip = nullptr;
        if (osip_message_init(&sip) != OSIP_SUCCESS) return false;
        bool ok = osip_message_parse(sip, m.data(), m.size()) == OSIP_SUCCESS;
        if (ok) ok = touch(sip, sink);
        osip_message_free(sip);
        return ok;
    }

    std::string failure(const std::string& m) {
        osip_message_t* sip = nullptr;
        if (osip_message_init(&sip) != OSIP_SUCCESS) return "osip_message_init failed";
        const int rc = osip_message_parse(sip, m.data(), m.size());
        uint64_t sink = 0;
        std::string out = rc != OSIP_SUCCESS ? "osip_message_parse returned " + std::to_string(rc)
                          : !touch(sip, sink) ? "a required header or the Via branch is missing"
                                              : "ok";
        osip_message_free(sip);
        return out;
    }

  private:
    // Reads the same fields as the sipparse benchmark; false if one of the
    // headers every message has is missing.
    static bool touch(osip_message_t* sip, uint64_t& sink) noexcept {
        osip_via_t* via = nullptr;
        if (!sip->call_id || !sip->cseq || !sip->from || !sip->to ||
            osip_message_get_via(sip, 0, &via) < 0 || !via)
            return false;
        osip_generic_param_t* branch = nullptr;
        osip_generic_param_t* from_tag = nullptr;
        osip_generic_param_t* to_tag = nullptr;
        osip_via_param_get_byname(via, const_cast<char*>("branch"), &branch);
        if (!branch || !branch->gvalue) return false;
        osip_from_get_tag(sip->from, &from_tag);
        osip_to_get_tag(sip->to, &to_tag);
        sink += first_byte(sip->call_id->number) + first_byte(sip->cseq->number) +
                first_byte(sip->cseq->method) + first_byte(branch->gvalue) +
                first_byte(from_tag ? from_tag->gvalue : nullptr) +
                first_byte(to_tag ? to_tag->gvalue : nullptr);
        return true;
    }
};

// --- sofia-sip --------------------------------------------------------------

class SofiaParser {
  public:
    static constexpr const char* name = "sofia";

    bool parse(const std::string& m, uint64_t& sink) noexcept {
        msg_t* msg = msg_make(sip_default_mclass(), 0, m.data(), ssize_t(m.size()));
        if (!msg) return false;
        const bool ok = check(msg) == nullptr && touch(sip_object(msg), sink);
        msg_destroy(msg);
        return ok;
    }

    std::string failure(const std::string& m) {
        msg_t* msg = msg_make(sip_default_mclass(), 0, m.data(), ssize_t(m.size()));
        if (!msg) return "msg_make returned NULL";
        uint64_t sink = 0;
        const char* why = check(msg);
        std::string out = why                          ? why
                          : !touch(sip_object(msg), sink) ? "a required header or the Via branch is missing"
                                                          : "ok";
        if (sip_t* sip = sip_object(msg); sip && sip->sip_error && sip->sip_error->er_name)
            out += std::string(" (first bad header: ") + sip->sip_error->er_name + ")";
        msg_destroy(msg);
        return out;
    }

  private:
    // nullptr when <msg> parsed cleanly: no message-level error flag, no
    // header-level extraction error, no header kept as "erroneous", and a
    // start line was recognised.
    static const char* check(msg_t* msg) noexcept {
        if (msg_has_error(msg)) return "msg_has_error";
        if (msg_extract_errors(msg) != 0) return "msg_extract_errors != 0";
        const sip_t* sip = sip_object(msg);
        if (!sip) return "sip_object returned NULL";
        if (sip->sip_error) return "sip_error is set";
        if (!sip->sip_request && !sip->sip_status) return "no request or status line";
        return nullptr;
    }

    static bool touch(const sip_t* sip, uint64_t& sink) noexcept {
        if (!sip->sip_call_id || !sip->sip_cseq || !sip->sip_via || !sip->sip_from ||
            !sip->sip_to || !sip->sip_via->v_branch)
            return false;
        sink += first_byte(sip->sip_call_id->i_id) + sip->sip_cseq->cs_seq +
                uint8_t(sip->sip_cseq->cs_method) + first_byte(sip->sip_via->v_branch) +
                first_byte(sip->sip_from->a_tag) + first_byte(sip->sip_to->a_tag);
        return true;
    }
};

// --- benchmarks -------------------------------------------------------------

const Corpus* g_corpus = nullptr;

/// One message, parsed over and over.
template <class Parser>
void bm_message(benchmark::State& state, const CorpusMessage* m) {
    Parser parser;
    uint64_t sink = 0;
    for (auto _ : state) {
        if (!parser.parse(m->data, sink)) {
            state.SkipWithError((std::string(Parser::name) + " failed on " + m->name).c_str());
            break;
        }
        benchmark::DoNotOptimize(sink);
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(m->data.size()));
}

/// The whole corpus in a round-robin loop: one iteration parses every
/// message once, so the mix (and the branch history) changes on every parse.
template <class Parser>
void bm_corpus(benchmark::State& state) {
    Parser parser;
    uint64_t sink = 0;
    const std::vector<CorpusMessage>& msgs = g_corpus->messages;
    for (auto _ : state) {
        for (const CorpusMessage& m : msgs) {
            if (!parser.parse(m.data, sink)) {
                state.SkipWithError((std::string(Parser::name) + " failed on " + m.name).c_str());
                return;
            }
        }
        benchmark::DoNotOptimize(sink);
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(msgs.size()));
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(g_corpus->total_bytes));
}

// Parses every message once with <Parser> and reports refusals on stderr.
// Returns the number of failures (the benchmarks then skip with an error).
template <class Parser>
int precheck(const Corpus& corpus) {
    Parser parser;
    int failed = 0;
    uint64_t sink = 0;
    for (const CorpusMessage& m : corpus.messages) {
        if (parser.parse(m.data, sink)) continue;
        ++failed;
        std::fprintf(stderr, "parse_bench: %s refused %s: %s\n", Parser::name, m.name.c_str(),
                     parser.failure(m.data).c_str());
    }
    std::fprintf(stderr, "parse_bench: %-15s parsed %zu/%zu corpus messages\n", Parser::name,
                 corpus.messages.size() - size_t(failed), corpus.messages.size());
    return failed;
}

template <class Parser>
void register_parser(const Corpus& corpus) {
    const std::string prefix = std::string("parse/") + Parser::name + "/";
    benchmark::RegisterBenchmark((prefix + "corpus").c_str(), bm_corpus<Parser>);
    for (const CorpusMessage& m : corpus.messages)
        benchmark::RegisterBenchmark((prefix + m.name).c_str(), bm_message<Parser>, &m);
}

}  // namespace
}  // namespace sipedge::bench

int main(int argc, char** argv) {
    using namespace sipedge::bench;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    static Corpus corpus;
    std::string error;
    if (!load_corpus(corpus_dir(), corpus, error)) {
        std::fprintf(stderr, "parse_bench: corpus: %s\n", error.c_str());
        return 1;
    }
    g_corpus = &corpus;
    std::fprintf(stderr, "parse_bench: corpus %s: %zu messages, %zu bytes\n", corpus_dir().c_str(),
                 corpus.messages.size(), corpus.total_bytes);

    // oSIP2: its header-name tables must be built once before any parse.
    if (parser_init() != OSIP_SUCCESS) {
        std::fprintf(stderr, "parse_bench: oSIP2 parser_init failed\n");
        return 1;
    }

    int failed = precheck<SipparseParser<false>>(corpus);
    failed += precheck<SipparseParser<true>>(corpus);
    failed += precheck<OsipParser>(corpus);
    failed += precheck<SofiaParser>(corpus);

    register_parser<SipparseParser<false>>(corpus);
    register_parser<SipparseParser<true>>(corpus);
    register_parser<OsipParser>(corpus);
    register_parser<SofiaParser>(corpus);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return failed ? 1 : 0;  // so scripts/bench.sh reports a refused message
}
