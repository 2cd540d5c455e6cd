// sipedgectl: the control socket's command-line client.
//
//   sipedgectl [--socket PATH] [--json] [COMMAND WORDS...]
//
// With words: sends them as one command (words with spaces are quoted).
// Without: sends each line of stdin (blank lines and '#' comments skipped).
// Prints a human table by default, the raw JSON reply line with --json.
// Exit status: 0 when every reply has status 0, 1 when one does not, 2 when
// the socket cannot be reached or a reply is malformed.
// The socket defaults to $SIPEDGE_SOCKET, else /run/sipedge.sock.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "control/json.h"
#include "control/tokens.h"

using sipedge::ctl::Json;

namespace {

std::string scalar(const Json& j) {
    switch (j.type()) {
    case Json::Type::null: return "";
    case Json::Type::boolean: return j.as_bool() ? "yes" : "no";
    case Json::Type::number: return std::to_string(j.as_int());
    case Json::Type::string: {
        // Payload texts hold CR/LF: show them escaped, one row per line.
        std::string s;
        for (const char c : j.as_string()) {
            if (c == '\r') s += "\\r";
            else if (c == '\n') s += "\\n";
            else s += c;
        }
        return s;
    }
    default: return j.dump();
    }
}

void print_table(const Json& rows, const std::string& indent) {
    std::vector<std::string> cols;
    for (const Json& r : rows.items())
        for (const auto& [k, v] : r.members())
            if (std::find(cols.begin(), cols.end(), k) == cols.end()) cols.push_back(k);
    std::vector<size_t> w(cols.size());
    for (size_t c = 0; c < cols.size(); c++) w[c] = cols[c].size();
    std::vector<std::vector<std::string>> cells;
    for (const Json& r : rows.items()) {
        std::vector<std::string> line;
        for (size_t c = 0; c < cols.size(); c++) {
            const Json* v = r.get(cols[c]);
            line.push_back(v ? scalar(*v) : "");
            w[c] = std::max(w[c], line.back().size());
        }
        cells.push_back(std::move(line));
    }
    auto emit = [&](const std::vector<std::string>& line, bool upper) {
        std::string s = indent;
        for (size_t c = 0; c < line.size(); c++) {
            std::string v = line[c];
            if (upper)
                for (char& ch : v) ch = char(std::toupper(static_cast<unsigned char>(ch)));
            s += v;
            if (c + 1 < line.size()) s += std::string(w[c] - v.size() + 2, ' ');
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        std::printf("%s\n", s.c_str());
    };
    if (cols.size() == 2 && cols[0] == "command" && cols[1] == "help") {  // help: two lines per command
        for (const auto& l : cells) std::printf("%s%s\n%s    %s\n", indent.c_str(), l[0].c_str(), indent.c_str(), l[1].c_str());
        return;
    }
    emit(cols, true);
    for (const auto& l : cells) emit(l, false);
}

bool all_objects(const Json& a) {
    if (!a.is_array() || a.size() == 0) return false;
    for (const Json& x : a.items())
        if (!x.is_object()) return false;
    return true;
}

void print_human(const Json& d, const std::string& indent) {
    if (d.is_null()) return;
    if (all_objects(d)) return print_table(d, indent);
    if (d.is_array()) {
        for (const Json& x : d.items()) std::printf("%s%s\n", indent.c_str(), scalar(x).c_str());
        return;
    }
    if (d.is_object()) {
        size_t kw = 0;
        for (const auto& [k, v] : d.members())
            if (!v.is_object() && !v.is_array()) kw = std::max(kw, k.size());
        for (const auto& [k, v] : d.members()) {
            if (v.is_object() || v.is_array()) {
                std::printf("%s%s:\n", indent.c_str(), k.c_str());
                print_human(v, indent + "  ");
            } else {
                std::printf("%s%-*s  %s\n", indent.c_str(), int(kw), k.c_str(), scalar(v).c_str());
            }
        }
        return;
    }
    std::printf("%s%s\n", indent.c_str(), scalar(d).c_str());
}

bool read_line(int fd, std::string& buf, std::string& line) {
    for (;;) {
        const size_t nl = buf.find('\n');
        if (nl != std::string::npos) {
            line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            return true;
        }
        char b[65536];
        const ssize_t n = read(fd, b, sizeof b);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buf.append(b, size_t(n));
    }
}

int usage() {
    std::fprintf(stderr, "usage: sipedgectl [--socket PATH] [--json] [COMMAND WORDS...]\n"
                         "       sipedgectl help     lists the commands\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const char* env = std::getenv("SIPEDGE_SOCKET");
    std::string path = env && *env ? env : "/run/sipedge.sock";
    bool json = false;
    std::vector<std::string> words;
    int i = 1;
    for (; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) path = argv[++i];
        else if (a == "--json") json = true;
        else if (a == "--") { i++; break; }
        else if (a == "-h" || a == "--help") return usage();
        else if (a.size() > 1 && a[0] == '-' && a[1] == '-') return usage();
        else break;
    }
    for (; i < argc; i++) words.push_back(argv[i]);

    std::vector<std::string> commands;
    if (!words.empty()) {
        std::string line;
        for (const std::string& w : words) line += (line.empty() ? "" : " ") + sipedge::ctl::quote_word(w);
        commands.push_back(line);
    } else {
        for (std::string l; std::getline(std::cin, l);)
            if (!sipedge::ctl::is_blank_or_comment(l)) commands.push_back(l);
    }

    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) {
        std::fprintf(stderr, "sipedgectl: socket path too long\n");
        return 2;
    }
    std::memcpy(a.sun_path, path.data(), path.size());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::fprintf(stderr, "sipedgectl: cannot connect to %s: %s\n", path.c_str(), std::strerror(errno));
        return 2;
    }
    int rc = 0;
    std::string buf;
    for (const std::string& cmd : commands) {
        const std::string out = cmd + "\n";
        if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) != ssize_t(out.size())) {
            std::fprintf(stderr, "sipedgectl: send: %s\n", std::strerror(errno));
            return 2;
        }
        std::string reply;
        if (!read_line(fd, buf, reply)) {
            std::fprintf(stderr, "sipedgectl: connection closed before the reply\n");
            return 2;
        }
        if (json) {
            std::printf("%s\n", reply.c_str());
        }
        auto j = Json::parse(reply);
        if (!j || !j.value().is_object() || !j.value().get("status")) {
            std::fprintf(stderr, "sipedgectl: malformed reply\n");
            return 2;
        }
        const Json& r = j.value();
        const int64_t status = r.get("status")->as_int();
        if (status != 0) {
            rc = 1;
            if (!json) {
                const Json* e = r.get("error");
                std::fprintf(stderr, "error %lld: %s\n", static_cast<long long>(status),
                             e ? e->as_string().c_str() : "?");
            }
        } else if (!json) {
            const Json* d = r.get("data");
            if (d) print_human(*d, "");
        }
    }
    close(fd);
    return rc;
}
