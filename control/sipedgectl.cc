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
// `sipedgectl metrics` (or `show metrics`) prints the Prometheus text as is.
//
//   sipedgectl [--count N] monitor events | monitor trace [FILTER]
//       streams one line per event / traced message (raw JSON with --json)
//       until the server goes away, Ctrl-C, or N lines.
//   sipedgectl [--count N] [--interval MS] top
//       a live view of trunks, servers, registrations and rates (from
//       successive `show stats` reads), redrawn every second with an ANSI
//       clear; q or Ctrl-C quits, --count stops after N screens.
//   sipedgectl wait-ready [--timeout S]
//       polls `show ready` (every 200 ms) until the edge takes traffic: the
//       socket answers and, in sipedge, the ports are started, every worker
//       polls and has the routing table. Exit 0 when ready; 1 with the last
//       reason (socket unreachable, what is not up yet) after S seconds
//       (default 30); 2 on bad usage.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "control/json.h"
#include "control/number.h"
#include "control/tokens.h"

using sipedge::ctl::Json;

namespace {

volatile sig_atomic_t g_stop = 0;  // Ctrl-C during `monitor`/`top`

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
        if (n < 0 && errno == EINTR && !g_stop) continue;
        if (n <= 0) return false;
        buf.append(b, size_t(n));
    }
}

// ---- streams and top (monitor, top) --------------------------------------------------------

void on_sigint(int) { g_stop = 1; }
// Ctrl-C ends a stream: no SA_RESTART, so a blocked read() returns EINTR.
void catch_sigint() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
}

int connect_socket(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) {
        std::fprintf(stderr, "sipedgectl: socket path too long\n");
        return -1;
    }
    std::memcpy(a.sun_path, path.data(), path.size());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::fprintf(stderr, "sipedgectl: cannot connect to %s: %s\n", path.c_str(), std::strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

// Sends <cmd> and reads its reply: the data on status 0, else prints the error.
bool request(int fd, std::string& buf, const std::string& cmd, Json& data) {
    const std::string out = cmd + "\n";
    if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) != ssize_t(out.size())) return false;
    std::string reply;
    if (!read_line(fd, buf, reply)) return false;
    auto j = Json::parse(reply);
    if (!j || !j.value().is_object() || !j.value().get("status")) return false;
    if (j.value().get("status")->as_int() != 0) {
        const Json* e = j.value().get("error");
        std::fprintf(stderr, "error %lld: %s\n", static_cast<long long>(j.value().get("status")->as_int()),
                     e ? e->as_string().c_str() : "?");
        return false;
    }
    const Json* d = j.value().get("data");
    data = d ? *d : Json();
    return true;
}

std::string field(const Json& o, const char* k) {
    const Json* v = o.get(k);
    return v ? scalar(*v) : "";
}

// `monitor ...`: the subscription reply, then one line per record until EOF.
int run_monitor(const std::string& path, const std::string& cmd, bool json, long count) {
    const int fd = connect_socket(path);
    if (fd < 0) return 2;
    catch_sigint();
    std::string buf;
    Json data;
    if (!request(fd, buf, cmd, data)) {
        close(fd);
        return 1;
    }
    const bool trace = cmd.rfind("monitor trace", 0) == 0;
    if (!json) std::fprintf(stderr, "sipedgectl: %s (Ctrl-C stops)\n", data.dump().c_str());
    std::fflush(stderr);
    long n = 0;
    std::string line;
    while (!g_stop && (count <= 0 || n < count) && read_line(fd, buf, line)) {
        n++;
        if (json) {
            std::printf("%s\n", line.c_str());
        } else if (auto j = Json::parse(line); j && j.value().is_object()) {
            const Json& r = j.value();
            if (trace) {
                std::printf("%s %s %s -> %s trunk=%s call-id=%s len=%s\n%s\n", field(r, "at_ms").c_str(),
                            field(r, "dir").c_str(), field(r, "src").c_str(), field(r, "dst").c_str(),
                            field(r, "trunk").c_str(), field(r, "call_id").c_str(), field(r, "len").c_str(),
                            r.get("text") ? r.get("text")->as_string().c_str() : "");
            } else {
                std::printf("%-8s %-10s %-20s %-16s server=%s %s%s%s\n", field(r, "at_ms").c_str(),
                            field(r, "trunk").c_str(), field(r, "event").c_str(), field(r, "identity").c_str(),
                            field(r, "server").c_str(), field(r, "address").c_str(),
                            field(r, "detail").empty() ? "" : "  ", field(r, "detail").c_str());
            }
        } else {
            std::printf("%s\n", line.c_str());
        }
        std::fflush(stdout);
    }
    close(fd);
    return 0;
}

// One `top` screen from the four views; <prev>/<dt_s> give the rates.
std::string top_screen(const Json& trunks, const Json& servers, const Json& regs, const Json& stats,
                       const std::map<std::string, int64_t>& prev, double dt_s,
                       std::map<std::string, int64_t>& cur) {
    std::string out;
    char line[256];
    unsigned up = 0, down = 0, registered = 0;
    for (const Json& s : servers.items()) (field(s, "state") == "up" ? up : down)++;
    for (const Json& r : regs.items()) registered += field(r, "state") == "registered" || field(r, "state") == "refreshing";
    std::snprintf(line, sizeof line, "sipedge top   trunks %zu   servers %u up / %u not up   registrations %u/%zu\n",
                  trunks.size(), up, down, registered, regs.size());
    out += line;
    // Rates: counters of the per-core sum, and the event log's growth.
    cur.clear();
    if (const Json* t = stats.get("total"))
        for (const auto& [k, v] : t->members())
            if (v.is_number()) cur[k] = v.as_int();
    if (const Json* e = stats.get("events_logged")) cur["events"] = e->as_int();
    out += "rates/s:";
    static const char* const shown[] = {"rx_packets", "tx_packets", "sip_requests_rx", "sip_responses_rx",
                                        "calls_attempted", "dropped", "events"};
    for (const char* k : shown) {
        auto c = cur.find(k);
        if (c == cur.end()) continue;
        auto p = prev.find(k);
        const double r = p == prev.end() || dt_s <= 0 ? 0.0 : double(c->second - p->second) / dt_s;
        std::snprintf(line, sizeof line, "  %s %.1f", k, r);
        out += line;
    }
    if (const Json* src = stats.get("source")) out += "   (" + src->as_string() + ")";
    out += "\n";
    return out;
}

// Puts the terminal in non-canonical mode while `top` runs (q quits at once).
struct RawTerminal {
    bool on = false;
    termios saved{};
    RawTerminal() {
        if (!isatty(0) || tcgetattr(0, &saved) != 0) return;
        termios t = saved;
        t.c_lflag &= tcflag_t(~(ICANON | ECHO));
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;
        on = tcsetattr(0, TCSANOW, &t) == 0;
    }
    ~RawTerminal() {
        if (on) tcsetattr(0, TCSANOW, &saved);
    }
};

int run_top(const std::string& path, bool json, long count, long interval_ms) {
    const int fd = connect_socket(path);
    if (fd < 0) return 2;
    catch_sigint();
    RawTerminal term;
    std::string buf;
    std::map<std::string, int64_t> prev, cur;
    auto last = std::chrono::steady_clock::now();
    for (long n = 0; !g_stop && (count <= 0 || n < count); n++) {
        if (n > 0) {
            // Wait for the next refresh; stdin gives q (or EOF when not a terminal: ignored).
            const auto until = last + std::chrono::milliseconds(interval_ms);
            bool quit = false;
            while (!g_stop && !quit) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now()).count();
                if (left <= 0) break;
                pollfd p{0, POLLIN, 0};
                const int r = poll(&p, term.on ? 1 : 0, int(left));
                if (r > 0 && (p.revents & POLLIN)) {
                    char ch = 0;
                    if (read(0, &ch, 1) == 1 && (ch == 'q' || ch == 'Q')) quit = true;
                }
            }
            if (quit) break;
        }
        Json trunks, servers, regs, stats;
        if (!request(fd, buf, "show trunks", trunks) || !request(fd, buf, "show servers", servers) ||
            !request(fd, buf, "show registrations", regs) || !request(fd, buf, "show stats", stats)) {
            std::fprintf(stderr, "sipedgectl: top: the control socket stopped answering\n");
            close(fd);
            return 2;
        }
        const auto now = std::chrono::steady_clock::now();
        const double dt = std::chrono::duration<double>(now - last).count();
        last = now;
        if (json) {
            Json o = Json::object();
            o.set("trunks", trunks);
            o.set("servers", servers);
            o.set("registrations", regs);
            o.set("stats", stats);
            std::printf("%s\n", o.dump().c_str());
        } else {
            const std::string head = top_screen(trunks, servers, regs, stats, prev, n == 0 ? 0.0 : dt, cur);
            std::printf("\x1b[H\x1b[2J%s\nTRUNKS\n", head.c_str());
            if (trunks.size()) print_human(trunks, "  ");
            std::printf("\nSERVERS\n");
            if (servers.size()) print_human(servers, "  ");
            std::printf("\nREGISTRATIONS\n");
            if (regs.size()) print_human(regs, "  ");
        }
        std::fflush(stdout);
        prev = cur;
    }
    close(fd);
    return 0;
}

// ---- wait-ready ------------------------------------------------------------------------------

// One `show ready` on a fresh connection (sipedge may not listen yet, or may
// have restarted): true with <data> when it answered; else <why> says what
// failed. The reply is awaited at most <wait_ms>.
bool ask_ready(const std::string& path, long wait_ms, Json& data, std::string& why) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());  // length checked by the caller
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        why = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        why = "cannot connect to " + path + ": " + std::strerror(errno);
        close(fd);
        return false;
    }
    timeval tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string cmd = "show ready\n";
    std::string buf, reply;
    if (send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL) != ssize_t(cmd.size()) || !read_line(fd, buf, reply)) {
        why = "the control socket " + path + " did not answer";
        close(fd);
        return false;
    }
    close(fd);
    auto j = Json::parse(reply);
    if (!j || !j.value().is_object() || !j.value().get("status")) {
        why = "malformed reply from " + path;
        return false;
    }
    if (j.value().get("status")->as_int() != 0) {
        const Json* e = j.value().get("error");
        why = "`show ready` refused: " + (e ? e->as_string() : std::string("?")) +
              " (a sipedge without the command?)";
        data = Json();
        return true;  // answered: the caller stops
    }
    const Json* d = j.value().get("data");
    data = d ? *d : Json();
    return true;
}

int run_wait_ready(const std::string& path, const std::vector<std::string>& words, double timeout_s, bool json) {
    for (size_t i = 1; i < words.size(); i++) {
        if (words[i] == "--timeout" && i + 1 < words.size()) {
            char* end = nullptr;
            timeout_s = std::strtod(words[++i].c_str(), &end);
            if (!end || *end || timeout_s < 0 || timeout_s > 86400) {
                std::fprintf(stderr, "sipedgectl: wait-ready: bad --timeout '%s' (seconds, 0-86400)\n",
                             words[i].c_str());
                return 2;
            }
        } else {
            std::fprintf(stderr, "usage: sipedgectl [--socket PATH] wait-ready [--timeout SECONDS]\n");
            return 2;
        }
    }
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        std::fprintf(stderr, "sipedgectl: socket path too long\n");
        return 2;
    }
    catch_sigint();
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::milliseconds(long(timeout_s * 1000.0));
    std::string why = "no answer yet";
    for (;;) {
        const long left = long(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()).count());
        Json data;
        std::string fail;
        if (ask_ready(path, std::clamp(left, 100L, 2000L), data, fail)) {
            if (!data.is_object()) {  // answered with an error: waiting will not change it
                std::fprintf(stderr, "sipedgectl: wait-ready: %s\n", fail.c_str());
                return 1;
            }
            const Json* r = data.get("ready");
            const Json* w = data.get("why");
            why = w && w->is_string() ? w->as_string() : "?";
            if (r && r->is_bool() && r->as_bool()) {
                const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                if (json) std::printf("%s\n", data.dump().c_str());
                else std::printf("ready after %.1f s: %s\n", took, why.c_str());
                if (const Json* warn = data.get("warning"); warn && warn->is_string())
                    std::fprintf(stderr, "sipedgectl: warning: %s\n", warn->as_string().c_str());
                return 0;
            }
            why = "not ready: " + why;
        } else {
            why = fail;
        }
        if (g_stop || left <= 0) break;
        usleep(useconds_t(std::min(200L, std::max(left, 1L)) * 1000));
    }
    std::fprintf(stderr, "sipedgectl: wait-ready: gave up after %.1f s: %s\n", timeout_s, why.c_str());
    return 1;
}

int usage() {
    std::fprintf(stderr, "usage: sipedgectl [--socket PATH] [--json] [COMMAND WORDS...]\n"
                         "       sipedgectl help     lists the commands\n"
                         "       sipedgectl [--count N] monitor events | monitor trace [trunk <t>|address <ip>|call-id <id>]\n"
                         "       sipedgectl [--count N] [--interval MS] top     live view; q or Ctrl-C quits\n"
                         "       sipedgectl wait-ready [--timeout SECONDS]     exit 0 once the edge takes traffic\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const char* env = std::getenv("SIPEDGE_SOCKET");
    std::string path = env && *env ? env : "/run/sipedge.sock";
    bool json = false;
    long count = 0, interval_ms = 1000;  // monitor/top: 0 = until stopped
    double timeout_s = 30;               // wait-ready
    std::vector<std::string> words;
    int i = 1;
    for (; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) path = argv[++i];
        else if (a == "--json") json = true;
        else if ((a == "--count" || a == "--interval") && i + 1 < argc) {
            // The control plane's number grammar (control/number.h); --interval below 50 ms is 50.
            uint64_t v = 0;
            if (sipedge::ctl::parse_number(argv[++i], 0, 1000000000, v) != sipedge::ctl::NumStatus::ok) {
                std::fprintf(stderr, "sipedgectl: %s: '%s' is not a number 0-1000000000\n", a.c_str(), argv[i]);
                return 2;
            }
            if (a == "--count") count = long(v);
            else interval_ms = std::max(50L, long(v));
        } else if (a == "--timeout" && i + 1 < argc) {
            char* end = nullptr;  // seconds, fractions allowed (wait-ready)
            timeout_s = std::strtod(argv[++i], &end);
            if (!end || *end || end == argv[i] || !(timeout_s >= 0 && timeout_s <= 86400)) {
                std::fprintf(stderr, "sipedgectl: bad --timeout '%s' (seconds, 0-86400)\n", argv[i]);
                return 2;
            }
        }
        else if (a == "--") { i++; break; }
        else if (a == "-h" || a == "--help") return usage();
        else if (a.size() > 1 && a[0] == '-' && a[1] == '-') return usage();
        else break;
    }
    for (; i < argc; i++) words.push_back(argv[i]);
    if (words.size() == 1 && words[0] == "metrics") words = {"show", "metrics"};  // Prometheus text, raw
    if (words.size() == 1 && words[0] == "top") return run_top(path, json, count, interval_ms);
    if (!words.empty() && words[0] == "wait-ready") return run_wait_ready(path, words, timeout_s, json);
    if (!words.empty() && words[0] == "monitor") {
        std::string line;
        for (const std::string& w : words) line += (line.empty() ? "" : " ") + sipedge::ctl::quote_word(w);
        return run_monitor(path, line, json, count);
    }

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
            if (d && d->is_string() && cmd == "show metrics") std::fputs(d->as_string().c_str(), stdout);  // raw text
            else if (d) print_human(*d, "");
        }
    }
    close(fd);
    return rc;
}
