#include "bench/sipparse/corpus.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>

#ifndef SIPEDGE_BENCH_CORPUS_DIR
#error "meson passes -DSIPEDGE_BENCH_CORPUS_DIR (bench/sipparse/meson.build)"
#endif

namespace sipedge::bench {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const char x = char(a[i] | 0x20), y = char(b[i] | 0x20);
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Checks the rules load_corpus() documents; "" when the message is fine.
std::string check_message(std::string_view m) {
    for (size_t i = 0; i < m.size(); ++i)
        if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
            return "bare LF at offset " + std::to_string(i);
    const size_t end = m.find("\r\n\r\n");
    if (end == std::string_view::npos) return "no empty line after the headers";
    const std::string_view head = m.substr(0, end + 2);
    const size_t body = m.size() - (end + 4);

    long content_length = -1;
    for (size_t pos = head.find("\r\n") + 2; pos < head.size();) {
        const size_t eol = head.find("\r\n", pos);
        const std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 2;
        const size_t colon = line.find(':');
        if (line.empty() || line[0] == ' ' || line[0] == '\t' || colon == std::string_view::npos)
            continue;  // folded continuation
        const std::string_view name = trim(line.substr(0, colon));
        if (iequals(name, "content-length") || iequals(name, "l")) {
            if (content_length >= 0) return "two Content-Length headers";
            content_length = std::strtol(std::string(trim(line.substr(colon + 1))).c_str(),
                                         nullptr, 10);
        }
    }
    if (content_length < 0) return "no Content-Length";
    if (size_t(content_length) != body)
        return "Content-Length " + std::to_string(content_length) + " but body has " +
               std::to_string(body) + " bytes";
    return {};
}

}  // namespace

std::string corpus_dir() {
    if (const char* env = std::getenv("SIPEDGE_BENCH_CORPUS"); env && *env) return env;
    return SIPEDGE_BENCH_CORPUS_DIR;
}

bool load_corpus(const std::string& dir, Corpus& out, std::string& error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file() && it->path().extension() == ".sip") files.push_back(it->path());
    if (ec) {
        error = dir + ": " + ec.message();
        return false;
    }
    if (files.empty()) {
        error = dir + ": no *.sip files";
        return false;
    }
    std::sort(files.begin(), files.end());

    out = Corpus{};
    for (const fs::path& p : files) {
        std::ifstream in(p, std::ios::binary);
        std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof()) {
            error = p.string() + ": read error";
            return false;
        }
        if (std::string why = check_message(data); !why.empty()) {
            error = p.string() + ": " + why;
            return false;
        }
        out.total_bytes += data.size();
        out.messages.push_back({p.stem().string(), std::move(data)});
    }
    return true;
}

}  // namespace sipedge::bench
