// sipedge-inspect: parses SIP messages from message files or pcap/pcapng
// captures with sipparse and prints one JSON object per message, one per line.
// Operators run it on captures; tests use it to check the parser end to end.
// The output format is documented in usage_text below; keep both in step.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/inspect/capture.h"
#include "tools/inspect/ipv4_reasm.h"
#include "sipparse/message.h"

namespace sipedge::ctl {

namespace {

constexpr const char* usage_text = R"(usage: sipedge-inspect [--all-udp] [--summary] FILE...
       sipedge-inspect --help

Parses each SIP message in FILEs with sipparse (parse() with datagram
framing, then validate()) and prints one JSON object per message on stdout,
one per line.

A FILE whose first bytes are a pcap or pcapng magic number is a capture: UDP
over IPv4 or IPv6 on Ethernet (802.1Q/802.1ad tags), Linux cooked (SLL, SLL2),
raw IP or BSD loopback links; IPv4 fragments are reassembled (30 s timeout).
Each UDP payload whose first line contains "SIP/" is a message (--all-udp:
every UDP payload). Any other FILE holds exactly one message.

Fields, in this order (absent values are null):
  source      {"file":F} for a message file; for a capture
              {"file":F,"frame":N,"ts_us":T,"src":"IP:PORT","dst":"IP:PORT"}
              plus "vlan":ID when tagged and "fragments":N when reassembled
              (frame is then the frame that completed the datagram; IPv6 is
              written "[addr]:port")
  status      "ok", "invalid" or "incomplete"
  bytes       length of the message file or UDP payload
  error       invalid only: {"offset":N,"kind":"bad_via","reason":"Bad Request",
              "status":400,"header":"Via"|null}; then no fields below
  type        "request" or "response"
  method, ruri     requests: method token and Request-URI as written
  code, reason     responses: status code and reason phrase
  call_id
  cseq        {"number":N,"method":M}
  via         top Via: {"branch":B,"host":H,"port":P,"transport":T}
  from_tag, to_tag
  headers     number of header fields
  body_len    body length (after Content-Length truncation)
  lenient     names of liberal rules the parser applied (may be empty)
  strict      sip::validate() on top of parse() (every known header held to
              its grammar, as a UAS would): {"status":"ok"} or
              {"status":"invalid","error":{...as above}}; it does not change
              "status" or the exit status

Strings are JSON-escaped: control bytes as \u00XX, valid UTF-8 as is, and any
byte that is not part of valid UTF-8 as \u00XX of its value.
--summary adds a last line {"summary":{...}} with counts and skipped frames.

Exit status: 0 every message ok, 1 some message invalid or incomplete,
2 usage or I/O error (reported on stderr with the file name).
)";

// Stable names of ParseError values (the enum's spelling), for "kind".
constexpr const char* error_kinds[] = {
    "none", "empty", "too_large", "bad_start_line", "bad_method", "bad_request_uri", "bad_version",
    "unsupported_version", "bad_status_code", "headers_unterminated", "bad_header_name",
    "bad_header_value", "too_many_headers", "missing_header", "duplicate_header", "bad_via",
    "bad_call_id", "bad_cseq", "cseq_mismatch", "bad_from", "bad_to", "bad_contact", "bad_route",
    "bad_max_forwards", "bad_content_length", "body_truncated", "bad_expires", "bad_retry_after",
    "bad_date", "bad_quoted_string",
};
static_assert(std::size(error_kinds) == size_t(sip::ParseError::count_),
              "error_kinds must follow sip::ParseError");

constexpr const char* lenient_names[] = {"bare_lf", "leading_crlf", "trailing_bytes", "no_content_length"};

// Message files larger than this are refused as not being one SIP message;
// the parser itself stops at sip::max_message_size.
constexpr size_t max_file_bytes = size_t(1) << 20;

struct Options {
    bool all_udp = false;
    bool summary = false;
    std::vector<std::string> files;
};

struct Totals {
    uint64_t files = 0;
    uint64_t messages = 0;
    uint64_t ok = 0;
    uint64_t invalid = 0;
    uint64_t incomplete = 0;
    uint64_t strict_invalid = 0;  // ok for parse(), refused by validate()
    uint64_t frames = 0;
    uint64_t decode[size_t(DecodeStatus::count_)] = {};
    uint64_t not_sip = 0;    // UDP payloads without "SIP/" on their first line
    uint64_t keepalive = 0;  // UDP payloads of CR/LF only (RFC 5626 §3.5.1 style)
    Ipv4ReasmStats reasm;
    bool io_error = false;
};

// Length of the valid UTF-8 sequence at <p>[0, <n>) (RFC 3629 §4: no
// overlongs, no surrogates, nothing past U+10FFFF), or 0.
size_t utf8_len(const uint8_t* p, size_t n) {
    const uint8_t c = p[0];
    auto cont = [&](size_t i, uint8_t lo = 0x80, uint8_t hi = 0xbf) {
        return i < n && p[i] >= lo && p[i] <= hi;
    };
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
    if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
    if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

// Appends <s> as a JSON string (RFC 8259 §7). Accepts any bytes; the output
// is always valid UTF-8 JSON (see usage_text for how odd bytes are written).
void put_str(std::string& o, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    o += '"';
    for (size_t i = 0; i < s.size();) {
        const uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            o += '\\';
            o += char(c);
        } else if (c == '\n') {
            o += "\\n";
        } else if (c == '\r') {
            o += "\\r";
        } else if (c == '\t') {
            o += "\\t";
        } else if (c >= 0x20 && c < 0x7f) {
            o += char(c);
        } else if (c >= 0x80) {
            if (const size_t n = utf8_len(p + i, s.size() - i); n != 0) {
                o.append(s.data() + i, n);
                i += n;
                continue;
            }
            o += "\\u00";
            o += hex[c >> 4];
            o += hex[c & 15];
        } else {  // other C0 controls and DEL
            o += "\\u00";
            o += hex[c >> 4];
            o += hex[c & 15];
        }
        i++;
    }
    o += '"';
}

void put_key(std::string& o, const char* key) {
    o += ",\"";
    o += key;
    o += "\":";
}

void put_num(std::string& o, uint64_t v) { o += std::to_string(v); }

// A span of the parsed buffer, or null when <present> is false.
void put_span(std::string& o, const char* base, sip::Span s, bool present = true) {
    if (!present) {
        o += "null";
        return;
    }
    put_str(o, s.str(base));
}

// The error object of a message that parse() or validate() refused.
void put_error(std::string& o, const sip::Message& m) {
    const size_t e = size_t(m.error);
    o += "{\"offset\":";
    put_num(o, m.error_off);
    put_key(o, "kind");
    put_str(o, e < std::size(error_kinds) ? error_kinds[e] : "unknown");
    put_key(o, "reason");
    put_str(o, sip::error_reason(m.error));
    put_key(o, "status");
    put_num(o, sip::error_status(m.error));
    put_key(o, "header");
    if (m.error_header == sip::HeaderId::other)
        o += "null";
    else
        put_str(o, sip::header_name(m.error_header));
    o += '}';
}

// Builds and prints the line for one message <buf>[0, <len>) whose source
// object (already JSON) is <source>. Counts the outcome in <t>.
void emit(const std::string& source, const char* buf, size_t len, Totals& t) {
    static sip::Message m;  // ~1.5 KB, reused: one message at a time
    const sip::ParseStatus st = sip::parse(buf, len, m, sip::Framing::datagram);

    std::string o;
    o.reserve(512);
    o += "{\"source\":";
    o += source;
    put_key(o, "status");
    t.messages++;
    switch (st) {
        case sip::ParseStatus::ok: o += "\"ok\""; t.ok++; break;
        case sip::ParseStatus::invalid: o += "\"invalid\""; t.invalid++; break;
        case sip::ParseStatus::incomplete: o += "\"incomplete\""; t.incomplete++; break;
    }
    put_key(o, "bytes");
    put_num(o, len);

    if (st == sip::ParseStatus::invalid) {
        put_key(o, "error");
        put_error(o, m);
    } else if (st == sip::ParseStatus::ok) {
        put_key(o, "type");
        if (m.is_request) {
            o += "\"request\"";
            put_key(o, "method");
            put_span(o, buf, m.method_name);
            put_key(o, "ruri");
            put_span(o, buf, m.request_uri);
        } else {
            o += "\"response\"";
            put_key(o, "code");
            put_num(o, m.status);
            put_key(o, "reason");
            put_span(o, buf, m.reason);
        }
        put_key(o, "call_id");
        put_span(o, buf, m.call_id, !m.call_id.empty());
        o += ",\"cseq\":{\"number\":";
        put_num(o, m.cseq.number);
        put_key(o, "method");
        put_span(o, buf, m.cseq.method_name, !m.cseq.method_name.empty());
        o += '}';
        put_key(o, "via");
        const sip::Via& v = m.top_via;
        if (v.all.empty()) {
            o += "null";
        } else {
            o += "{\"branch\":";
            put_span(o, buf, v.branch, v.has_branch);
            put_key(o, "host");
            put_span(o, buf, v.sent_by.host, !v.sent_by.host.empty());
            put_key(o, "port");
            if (v.sent_by.has_port)
                put_num(o, v.sent_by.port);
            else
                o += "null";
            put_key(o, "transport");
            put_span(o, buf, v.transport_name, !v.transport_name.empty());
            o += '}';
        }
        put_key(o, "from_tag");
        put_span(o, buf, m.from.tag, m.from.has_tag);
        put_key(o, "to_tag");
        put_span(o, buf, m.to.tag, m.to.has_tag);
        put_key(o, "headers");
        put_num(o, m.header_count);
        put_key(o, "body_len");
        put_num(o, m.body.len);
        put_key(o, "lenient");
        o += '[';
        bool first = true;
        for (size_t b = 0; b < std::size(lenient_names); b++) {
            if ((m.lenient & (1u << b)) == 0) continue;
            if (!first) o += ',';
            first = false;
            put_str(o, lenient_names[b]);
        }
        o += ']';
        // Last: validate() overwrites the error fields of <m>.
        put_key(o, "strict");
        if (sip::validate(buf, m) == sip::ParseStatus::ok) {
            o += "{\"status\":\"ok\"}";
        } else {
            t.strict_invalid++;
            o += "{\"status\":\"invalid\",\"error\":";
            put_error(o, m);
            o += '}';
        }
    } else if (m.need != 0) {
        put_key(o, "need");
        put_num(o, m.need);
    }
    o += "}\n";
    std::fwrite(o.data(), 1, o.size(), stdout);
}

void io_error(Totals& t, const std::string& path, const std::string& what) {
    std::fprintf(stderr, "sipedge-inspect: %s: %s\n", path.c_str(), what.c_str());
    t.io_error = true;
}

// True when the UDP payload <p>[0, <n>) should be parsed as SIP: after any
// leading CR/LF, its first line (up to 1024 bytes) contains "SIP/". Counts
// CR/LF-only payloads as keep-alives and the rest as not_sip.
bool looks_like_sip(const uint8_t* p, size_t n, Totals& t) {
    size_t i = 0;
    while (i < n && (p[i] == '\r' || p[i] == '\n')) i++;
    if (i == n) {
        t.keepalive++;
        return false;
    }
    const std::string_view line(reinterpret_cast<const char*>(p + i), std::min<size_t>(n - i, 1024));
    const std::string_view first = line.substr(0, line.find('\n'));
    if (first.find("SIP/") != std::string_view::npos) return true;
    t.not_sip++;
    return false;
}

// The "source" object of a datagram from a capture.
std::string capture_source(const std::string& file_json, const Frame& f, const Packet& pk,
                           uint32_t fragments) {
    char src[endpoint_text_max], dst[endpoint_text_max];
    format_endpoint(pk.src, pk.sport, src);
    format_endpoint(pk.dst, pk.dport, dst);
    std::string s = "{\"file\":" + file_json;
    put_key(s, "frame");
    put_num(s, f.number);
    put_key(s, "ts_us");
    put_num(s, f.ts_us);
    put_key(s, "src");
    put_str(s, src);
    put_key(s, "dst");
    put_str(s, dst);
    if (pk.has_vlan) {
        put_key(s, "vlan");
        put_num(s, pk.vlan);
    }
    if (fragments != 0) {
        put_key(s, "fragments");
        put_num(s, fragments);
    }
    s += '}';
    return s;
}

void inspect_capture(const std::string& path, const Options& opt, Totals& t) {
    CaptureReader reader;
    std::string err;
    if (!reader.open(path, err)) return io_error(t, path, err);
    if (reader.link() == LinkType::unsupported)
        return io_error(t, path, "unsupported link type " + std::to_string(reader.dlt()));

    std::string file_json;
    put_str(file_json, path);
    Ipv4Reassembler reasm;
    Frame f;
    ReadStatus rs;
    while ((rs = reader.next(f, err)) == ReadStatus::frame) {
        t.frames++;
        Packet pk = decode_frame(reader.link(), f.data, f.caplen);
        uint32_t fragments = 0;
        if (pk.status == DecodeStatus::ipv4_fragment) {
            t.decode[size_t(pk.status)]++;
            if (reasm.add(pk.fragment, f.ts_us) != ReasmStatus::complete) continue;
            fragments = reasm.fragment_count();
            const std::vector<uint8_t>& d = reasm.payload();
            if (decode_udp(d.data(), d.size(), pk) != DecodeStatus::udp) {
                t.decode[size_t(pk.status)]++;
                continue;
            }
        } else {
            t.decode[size_t(pk.status)]++;
            if (pk.status != DecodeStatus::udp) continue;
        }
        if (!opt.all_udp && !looks_like_sip(pk.payload, pk.payload_len, t)) continue;
        emit(capture_source(file_json, f, pk, fragments),
             reinterpret_cast<const char*>(pk.payload), pk.payload_len, t);
    }
    reasm.flush();
    const Ipv4ReasmStats& r = reasm.stats();
    t.reasm.fragments += r.fragments;
    t.reasm.completed += r.completed;
    t.reasm.duplicate += r.duplicate;
    t.reasm.bad_fragment += r.bad_fragment;
    t.reasm.overlap_conflict += r.overlap_conflict;
    t.reasm.inconsistent += r.inconsistent;
    t.reasm.timed_out += r.timed_out;
    t.reasm.evicted += r.evicted;
    t.reasm.unfinished += r.unfinished;
    if (rs == ReadStatus::error) io_error(t, path, "read error after frame " + std::to_string(t.frames) + ": " + err);
}

void inspect_file(const std::string& path, const Options& opt, Totals& t) {
    t.files++;
    std::FILE* fp = std::fopen(path.c_str(), "rb");
    if (fp == nullptr) return io_error(t, path, std::strerror(errno));
    // The first 4 bytes decide: a capture goes to libpcap, the rest is read
    // here. One byte past the limit tells an oversized file apart.
    std::string data(max_file_bytes + 1, '\0');
    size_t n = 0;
    bool checked = false;
    while (n < data.size()) {
        const size_t got = std::fread(data.data() + n, 1, (checked ? data.size() : 4) - n, fp);
        if (got == 0) break;
        n += got;
        if (!checked && n >= 4) {
            checked = true;
            if (is_capture_magic(reinterpret_cast<const uint8_t*>(data.data()), n)) {
                std::fclose(fp);
                return inspect_capture(path, opt, t);
            }
        }
    }
    const bool failed = std::ferror(fp) != 0;
    const int saved = errno;
    std::fclose(fp);
    if (failed) return io_error(t, path, std::strerror(saved));
    if (n > max_file_bytes) return io_error(t, path, "larger than 1 MiB: not a SIP message file");
    data.resize(n);
    std::string source = "{\"file\":";
    put_str(source, path);
    source += '}';
    emit(source, data.data(), data.size(), t);
}

void print_summary(const Totals& t) {
    std::string o = "{\"summary\":{\"files\":";
    put_num(o, t.files);
    const std::pair<const char*, uint64_t> counts[] = {
        {"messages", t.messages}, {"ok", t.ok}, {"invalid", t.invalid},
        {"incomplete", t.incomplete}, {"strict_invalid", t.strict_invalid}, {"frames", t.frames},
    };
    for (const auto& [k, v] : counts) {
        put_key(o, k);
        put_num(o, v);
    }
    o += ",\"skipped\":{\"not_sip\":";
    put_num(o, t.not_sip);
    put_key(o, "keepalive");
    put_num(o, t.keepalive);
    for (size_t i = 0; i < size_t(DecodeStatus::count_); i++) {
        const auto s = DecodeStatus(i);
        if (s == DecodeStatus::udp || s == DecodeStatus::ipv4_fragment) continue;
        put_key(o, decode_status_name(s));
        put_num(o, t.decode[i]);
    }
    const Ipv4ReasmStats& r = t.reasm;
    const std::pair<const char*, uint64_t> reasm[] = {
        {"fragments", r.fragments}, {"completed", r.completed}, {"duplicate", r.duplicate},
        {"bad_fragment", r.bad_fragment}, {"overlap_conflict", r.overlap_conflict},
        {"inconsistent", r.inconsistent}, {"timed_out", r.timed_out}, {"evicted", r.evicted},
        {"unfinished", r.unfinished},
    };
    o += "},\"reassembly\":{";
    bool first = true;
    for (const auto& [k, v] : reasm) {
        if (!first) o += ',';
        first = false;
        put_str(o, k);
        o += ':';
        put_num(o, v);
    }
    o += "}}}\n";
    std::fwrite(o.data(), 1, o.size(), stdout);
}

// Parses argv. Returns -1 to go on, else the exit status to end with.
int parse_args(int argc, char** argv, Options& opt) {
    bool files_only = false;
    for (int i = 1; i < argc; i++) {
        const std::string_view a = argv[i];
        if (!files_only && a.size() > 1 && a[0] == '-') {
            if (a == "--help" || a == "-h") {
                std::fputs(usage_text, stdout);
                return 0;
            }
            if (a == "--all-udp") {
                opt.all_udp = true;
            } else if (a == "--summary") {
                opt.summary = true;
            } else if (a == "--") {
                files_only = true;
            } else {
                std::fprintf(stderr, "sipedge-inspect: unknown option %s (try --help)\n", argv[i]);
                return 2;
            }
            continue;
        }
        opt.files.emplace_back(a);
    }
    if (opt.files.empty()) {
        std::fputs("sipedge-inspect: no FILE given (try --help)\n", stderr);
        return 2;
    }
    return -1;
}

int run(int argc, char** argv) {
    Options opt;
    if (const int rc = parse_args(argc, argv, opt); rc >= 0) return rc;
    Totals t;
    for (const std::string& f : opt.files) inspect_file(f, opt, t);
    if (opt.summary) print_summary(t);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::fprintf(stderr, "sipedge-inspect: writing output: %s\n", std::strerror(errno));
        return 2;
    }
    if (t.io_error) return 2;
    return t.invalid + t.incomplete != 0 ? 1 : 0;
}

}  // namespace

}  // namespace sipedge::ctl

int main(int argc, char** argv) {
    // sipedge code throws nothing; std containers may (bad_alloc): end cleanly.
    try {
        return sipedge::ctl::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sipedge-inspect: %s\n", e.what());
        return 2;
    }
}
