// Runs the spec files: every "## case" in tests/spec/*.md pairs a message
// (a ```sip block, or `file: <path under tests/data>`) with a ```log block of
// expected fields (key=value, values quoted when they hold spaces). Each
// message is parsed from a GuardedBuffer so an over-read crashes.
//
// Block forms: ```sip joins lines with CRLF (and ends the last line with
// CRLF); ```sip-lf keeps bare LF. `framing: stream` parses as a stream.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sipparse/message.h"
#include "tests/support/describe.h"
#include "tests/support/guarded_buffer.h"

namespace {

namespace fs = std::filesystem;

struct SpecCase {
    std::string name;    // test name: file stem + title
    std::string where;   // md file:line
    std::string message;
    std::string expect;  // raw log text
    sipedge::sip::Framing framing = sipedge::sip::Framing::datagram;
    std::string error;   // problem loading the case
};

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string sanitize(const std::string& s) {
    std::string o;
    for (char c : s) o += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return o;
}

std::vector<SpecCase> load_all() {
    std::vector<SpecCase> cases;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(SIPEDGE_SPEC_DIR))
        if (e.path().extension() == ".md") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        std::istringstream in(read_file(path));
        std::string line;
        int lineno = 0;
        SpecCase* cur = nullptr;
        enum { none, sip, sip_lf, log } block = none;
        std::vector<std::string> lines;
        while (std::getline(in, line)) {
            lineno++;
            if (block != none) {
                if (line.rfind("```", 0) == 0) {
                    if (cur && (block == sip || block == sip_lf)) {
                        const char* eol = block == sip ? "\r\n" : "\n";
                        for (const auto& l : lines) cur->message += l + eol;
                    } else if (cur) {
                        for (const auto& l : lines) cur->expect += l + " ";
                    }
                    lines.clear();
                    block = none;
                } else {
                    lines.push_back(line);
                }
                continue;
            }
            if (line.rfind("## ", 0) == 0) {
                cases.push_back({});
                cur = &cases.back();
                cur->name = sanitize(path.stem().string() + "_" + line.substr(3));
                cur->where = path.filename().string() + ":" + std::to_string(lineno);
            } else if (cur && line.rfind("file: ", 0) == 0) {
                const fs::path p = fs::path(SIPEDGE_DATA_DIR) / line.substr(6);
                if (!fs::exists(p)) cur->error = "missing file " + p.string();
                else cur->message = read_file(p);
            } else if (cur && line == "framing: stream") {
                cur->framing = sipedge::sip::Framing::stream;
            } else if (line == "```sip") {
                block = sip;
            } else if (line == "```sip-lf") {
                block = sip_lf;
            } else if (line == "```log") {
                block = log;
            }
        }
    }
    return cases;
}

// key=value or key="quoted value" (\" \\ \r \n \t escapes) tokens.
std::vector<std::pair<std::string, std::string>> parse_expect(const std::string& s, std::string& err) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) i++;
        if (i == s.size()) break;
        const size_t eq = s.find('=', i);
        if (eq == std::string::npos) {
            err = "no '=' after " + s.substr(i);
            return out;
        }
        std::string key = s.substr(i, eq - i), val;
        i = eq + 1;
        if (i < s.size() && s[i] == '"') {
            for (i++; i < s.size() && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < s.size()) {
                    const char c = s[++i];
                    val += c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : c;
                } else {
                    val += s[i];
                }
            }
            i++;
        } else {
            while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) val += s[i++];
        }
        out.emplace_back(key, val);
    }
    return out;
}

class SpecTest : public ::testing::TestWithParam<SpecCase> {};

TEST_P(SpecTest, Fields) {
    const SpecCase& c = GetParam();
    ASSERT_TRUE(c.error.empty()) << c.where << ": " << c.error;
    ASSERT_FALSE(c.expect.empty()) << c.where << ": no ```log block";
    std::string perr;
    const auto expect = parse_expect(c.expect, perr);
    ASSERT_TRUE(perr.empty()) << c.where << ": " << perr;
    ASSERT_FALSE(expect.empty()) << c.where;

    sipedge::test::GuardedBuffer buf(c.message);
    static sipedge::sip::Message m;
    // status: parse() then validate(), the strict verdict; proxy_status:
    // parse() alone, what the proxy path accepts (RFC 3261 §16.3).
    auto st = sipedge::sip::parse(buf.data(), buf.size(), m, c.framing);
    const std::string proxy_status = sipedge::test::status_name(st);
    if (st == sipedge::sip::ParseStatus::ok) st = sipedge::sip::validate(buf.data(), m);
    auto fields = sipedge::test::describe(st, m, buf.data());
    fields["proxy_status"] = proxy_status;
    for (const auto& [k, v] : expect) {
        const auto it = fields.find(k);
        if (it == fields.end()) {
            ADD_FAILURE() << c.where << ": no field '" << k << "' (status " << fields.at("status") << ")";
            continue;
        }
        EXPECT_EQ(it->second, v) << c.where << ": field " << k;
    }
}

INSTANTIATE_TEST_SUITE_P(Spec, SpecTest, ::testing::ValuesIn(load_all()),
                         [](const auto& info) { return info.param.name; });

// Every corpus message is named in a spec file, so none goes unchecked.
TEST(SpecCoverage, EveryCorpusFileHasACase) {
    std::string all;
    for (const auto& e : fs::directory_iterator(SIPEDGE_SPEC_DIR))
        if (e.path().extension() == ".md") all += read_file(e.path());
    for (const char* dir : {"rfc4475", "rfc5118", "rfc4475/variants"}) {
        for (const auto& e : fs::directory_iterator(fs::path(SIPEDGE_DATA_DIR) / dir)) {
            const auto ext = e.path().extension();
            if (ext != ".dat" && ext != ".sip") continue;
            const std::string ref = std::string("file: ") + dir + "/" + e.path().filename().string() + "\n";
            EXPECT_NE(all.find(ref), std::string::npos) << "no spec case for " << ref;
        }
    }
}

}  // namespace
