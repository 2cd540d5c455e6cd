#include "control/commands.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>

#include "control/cmd_access.h"  // access_commands
#include "control/cmd_route.h"  // route_commands, validate_routes
#include "control/tokens.h"

namespace sipedge::ctl {

namespace {

// Secrets-file words: a PEM (lines, spaces) as one base64 word (OpenSSL's
// EVP_EncodeBlock/EVP_DecodeBlock, RFC 4648 without line breaks).
std::string base64(const std::string& in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), int(in.size()));
    out.resize(size_t(n));
    return out;
}

std::optional<std::string> unbase64(const std::string& in) {
    if (in.empty() || in.size() % 4 != 0) return std::nullopt;
    std::string out(in.size() / 4 * 3 + 1, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), int(in.size()));
    if (n < 0) return std::nullopt;
    size_t len = size_t(n);
    for (size_t i = in.size(); i > 0 && in[i - 1] == '=' && len > 0; i--) len--;  // DecodeBlock keeps the padding's zeros
    out.resize(len);
    return out;
}

}  // namespace

namespace {

struct Entry {
    const Command* cmd;
    std::vector<std::string> words;
};

std::vector<std::string> split_words(const char* s) {
    std::vector<std::string> w;
    std::istringstream in(s);
    for (std::string x; in >> x;) w.push_back(x);
    return w;
}

const std::vector<Entry>& entries() {
    static const std::vector<Entry> all = [] {
        std::vector<Entry> v;
        for (auto span : {trunk_commands(), global_commands(), show_commands(), ops_commands(),
                          dataplane_commands(), route_commands(), dns_commands(), access_commands()})
            for (const Command& c : span) v.push_back(Entry{&c, split_words(c.words)});
        return v;
    }();
    return all;
}

bool is_var(const std::string& w) { return w.size() > 2 && w.front() == '<' && w.back() == '>'; }

Json reply_ok(Json data) {
    Json r = Json::object();
    r.set("status", 0);
    r.set("data", std::move(data));
    return r;
}

Json reply_err(const Error& e) {
    Json r = Json::object();
    r.set("status", e.code ? e.code : EINVAL);
    r.set("error", e.message);
    return r;
}

}  // namespace

const std::vector<const Command*>& command_table() {
    static const std::vector<const Command*> t = [] {
        std::vector<const Command*> v;
        for (const Entry& e : entries()) v.push_back(e.cmd);
        return v;
    }();
    return t;
}

Result<Match> match_command(const std::vector<std::string>& words) {
    if (words.empty()) return err(EINVAL, "empty command; try 'help'");
    const Entry* best = nullptr;
    int best_score = -1;
    size_t best_prefix = 0;
    const Entry* prefix_entry = nullptr;
    for (const Entry& e : entries()) {
        size_t i = 0;
        int score = 0;
        for (; i < e.words.size() && i < words.size(); i++) {
            if (is_var(e.words[i])) continue;
            if (e.words[i] != words[i]) break;
            score++;
        }
        if (i == e.words.size() && score > best_score) {
            best = &e;
            best_score = score;
        }
        if (i > best_prefix || (!prefix_entry && i == best_prefix)) {
            best_prefix = i;
            prefix_entry = &e;
        }
    }
    if (best) {
        Match m;
        m.cmd = best->cmd;
        for (size_t i = 0; i < best->words.size(); i++)
            if (is_var(best->words[i])) m.args.vars.push_back(words[i]);
        m.args.rest.assign(words.begin() + long(best->words.size()), words.end());
        return m;
    }
    if (best_prefix == 0) return err(EINVAL, "unknown command '" + words[0] + "'; try 'help'");
    if (best_prefix == words.size()) {
        // Every command the words begin: "usage: a | b".
        std::string usage;
        for (const Entry& e : entries()) {
            if (e.words.size() <= words.size()) continue;
            bool same = true;
            for (size_t i = 0; i < words.size() && same; i++) same = is_var(e.words[i]) || e.words[i] == words[i];
            if (!same) continue;
            usage += (usage.empty() ? "" : " | ") + std::string(e.cmd->words) + (*e.cmd->args ? " " : "") + e.cmd->args;
        }
        return err(EINVAL, "incomplete command; usage: " + usage);
    }
    // Which literal words could follow the matched prefix.
    std::string expected;
    for (const Entry& e : entries()) {
        if (e.words.size() <= best_prefix) continue;
        bool same = true;
        for (size_t i = 0; i < best_prefix && same; i++)
            same = is_var(e.words[i]) || e.words[i] == words[i];
        const std::string& w = e.words[best_prefix];
        if (same && !is_var(w) && expected.find("'" + w + "'") == std::string::npos)
            expected += (expected.empty() ? "'" : ", '") + w + "'";
    }
    return err(EINVAL, "unknown word '" + words[best_prefix] + "'" +
                           (expected.empty() ? std::string() : "; expected " + expected));
}

Result<TrunkConfig*> find_trunk(State& st, const std::string& name) {
    auto it = st.trunks.find(name);
    if (it == st.trunks.end()) return err(ENOENT, "no trunk '" + name + "'");
    return &it->second;
}

Status check_name(const std::string& what, const std::string& name) {
    if (name.empty() || name.size() > 64) return err(EINVAL, what + " name must be 1-64 characters");
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return err(EINVAL, what + " name '" + name + "': only letters, digits, '-', '_' and '.'");
    return Ok{};
}

std::string redact(std::string_view line) {
    auto words = tokenize(line);
    if (!words) return "<unparsable line>";
    std::string out;
    bool hide = false;
    for (const std::string& w : words.value()) {
        if (!out.empty()) out += ' ';
        out += hide ? "***" : quote_word(w);
        hide = w == "password" || w == "community";
    }
    return out;
}

// ---- Controller ---------------------------------------------------------------------

Controller::Controller(Clock clock, ControllerOptions opt)
    : clock_(std::move(clock)), opt_(std::move(opt)),
      engine_(std::make_unique<failover::Engine>(opt_.seed)) {}

Json Controller::execute_json(std::string_view line) {
    try {
        auto words = tokenize(line);
        if (!words) return reply_err(words.error());
        // Only mutating commands pay for the copy; match first to know.
        auto m = match_command(words.value());
        if (!m) return reply_err(m.error());
        std::set<std::string> touched;
        if (!m.value().cmd->mutates) {
            CmdCtx ctx{*this, committed_, touched};
            auto r = m.value().cmd->handler(ctx, m.value().args);
            return r ? reply_ok(std::move(r.value())) : reply_err(r.error());
        }
        State work = committed_;
        CmdCtx ctx{*this, work, touched};
        auto r = m.value().cmd->handler(ctx, m.value().args);
        if (!r) return reply_err(r.error());
        Status v = validate_touched(work, touched);
        if (!v) return reply_err(v.error());
        commit(std::move(work), touched);
        return reply_ok(std::move(r.value()));
    } catch (const std::bad_alloc&) {
        return reply_err(err(ENOMEM, "out of memory"));
    } catch (const std::exception& e) {
        return reply_err(err(EIO, std::string("internal error: ") + e.what()));
    }
}

std::string Controller::execute(std::string_view line) {
    try {
        return execute_json(line).dump();
    } catch (const std::exception&) {
        return "{\"status\":12,\"error\":\"out of memory\"}";
    }
}

Status Controller::apply_lines(const std::vector<std::string>& lines, const std::string& origin) {
    try {
        State work = committed_;
        std::set<std::string> touched;
        std::map<std::string, size_t> last_line;  // trunk → last line that touched it
        for (size_t n = 0; n < lines.size(); n++) {
            const std::string where = origin + ":" + std::to_string(n + 1) + ": ";
            if (is_blank_or_comment(lines[n])) continue;
            auto words = tokenize(lines[n]);
            if (!words) return err(words.error().code, where + words.error().message);
            auto m = match_command(words.value());
            if (!m) return err(m.error().code, where + m.error().message);
            if (!m.value().cmd->mutates)
                return err(EINVAL, where + "'" + m.value().cmd->words + "' is not a configuration command");
            std::set<std::string> t;
            CmdCtx ctx{*this, work, t};
            auto r = m.value().cmd->handler(ctx, m.value().args);
            if (!r) return err(r.error().code, where + r.error().message);
            for (const std::string& name : t) {
                touched.insert(name);
                last_line[name] = n + 1;
            }
        }
        // Cross-knob rules are checked once the whole file is read, so the
        // order of lines does not matter; the error points at the trunk's last line.
        for (const std::string& name : touched) {
            Status v = validate_touched(work, {name});
            if (!v) return err(v.error().code, origin + ":" + std::to_string(last_line[name]) + ": " + v.error().message);
        }
        commit(std::move(work), touched);
        return Ok{};
    } catch (const std::bad_alloc&) {
        return err(ENOMEM, origin + ": out of memory");
    } catch (const std::exception& e) {
        return err(EIO, origin + ": internal error: " + e.what());
    }
}

Status Controller::validate_touched(const State& work, const std::set<std::string>& touched) const {
    for (const std::string& name : touched) {
        auto it = work.trunks.find(name);
        if (it == work.trunks.end()) continue;  // deleted
        Status v = validate_settings(it->second.knobs);
        if (!v) return err(v.error().code, "trunk " + name + ": " + v.error().message);
    }
    return validate_routes(work, touched, defer_route_compile_);  // cmd_route.cc: compiles changed patterns
}

void Controller::commit(State next, const std::set<std::string>& touched) {
    committed_ = std::move(next);
    commits_++;
    sync_engine(touched);
    if (dns_commit_) dns_commit_();  // control/dns_link.cc: locate new names, re-apply answers
    // Secrets mirror the running identities.
    std::map<std::pair<std::string, std::string>, std::string> s;
    for (const auto& [name, t] : committed_.trunks)
        for (const IdentityConfig& i : t.identities) s[{name, i.user}] = i.password;
    if (!committed_.global.snmp_trap_community.empty())  // cmd_ops.cc stored-community
        s[{"@snmp", "community"}] = committed_.global.snmp_trap_community;
    if (!rr_key_.empty()) s[{"@rr", "key"}] = rr_key_;  // record_route_key()
    for (const auto& [name, t] : committed_.trunks)  // issue 14: tls-client-key
        if (!t.tls_client_key_pem.empty()) s[{name, std::string(tls_key_secret)}] = base64(t.tls_client_key_pem);
    if (s != secrets_) {
        secrets_ = std::move(s);
        Status saved = save_secrets();
        if (!saved) std::fprintf(stderr, "sipedge: %s\n", saved.error().message.c_str());
    }
}

std::optional<uint32_t> Controller::engine_id(const std::string& name) const {
    auto it = engine_ids_.find(name);
    if (it == engine_ids_.end()) return std::nullopt;
    return it->second;
}

std::string Controller::engine_status(const std::string& name) const {
    if (engine_ids_.count(name)) return "";
    auto it = engine_errors_.find(name);
    return it == engine_errors_.end() ? "not configured" : it->second;
}

std::optional<std::string> Controller::stored_tls_key(const std::string& trunk) const {
    auto it = secrets_.find({trunk, std::string(tls_key_secret)});
    if (it == secrets_.end()) return std::nullopt;
    return unbase64(it->second);
}

Result<std::string> Controller::read_tls_key(const std::string& path, const std::string& what) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return err(errno, what + " " + path + ": " + std::strerror(errno));
    struct stat st{};
    std::string pem;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err(EINVAL, what + " " + path + ": not a regular file");
    }
    if (st.st_mode & 077) {
        close(fd);
        return err(EPERM, what + " " + path + ": group or others may read it (chmod 600)");
    }
    if (st.st_size > 16384) {
        close(fd);
        return err(EFBIG, what + " " + path + ": over 16 KiB, not a private key");
    }
    pem.resize(size_t(st.st_size));
    const ssize_t n = read(fd, pem.data(), pem.size());
    close(fd);
    if (n != ssize_t(pem.size())) return err(EIO, what + " " + path + ": short read");
    // One private key OpenSSL can load (no passphrase: the edge runs unattended).
    BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
    EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr) : nullptr;
    BIO_free(bio);
    ERR_clear_error();  // its queue may quote the input: never reported
    if (!k) return err(EINVAL, what + " " + path + ": not a PEM private key OpenSSL can read (or it has a passphrase)");
    EVP_PKEY_free(k);
    return pem;
}

const std::string* Controller::stored_password(const std::string& trunk, const std::string& user) const {
    auto it = secrets_.find({trunk, user});
    return it == secrets_.end() ? nullptr : &it->second;
}

void Controller::remove_from_engine(const std::string& name, failover::Millis now) {
    auto it = engine_ids_.find(name);
    if (it == engine_ids_.end()) return;
    engine_->remove_trunk(it->second, now);
    engine_ids_.erase(it);
    engine_view_.erase(name);
}

void Controller::sync_engine(const std::set<std::string>& touched) {
    const failover::Millis now = clock_();
    for (const std::string& name : touched) {
        auto it = committed_.trunks.find(name);
        const bool running = engine_ids_.count(name) != 0;
        if (it == committed_.trunks.end()) {  // deleted: that trunk alone leaves the engine
            engine_errors_.erase(name);
            if (running) remove_from_engine(name, now);
            continue;
        }
        const TrunkConfig& t = it->second;
        if (auto why = incomplete_reason(t)) {
            if (running) remove_from_engine(name, now);
            engine_errors_[name] = *why;
            continue;
        }
        if (!running) {
            const failover::AddResult r = engine_->add_trunk(to_add_trunk(t), now);
            if (r.error != failover::ConfigError::ok) {
                engine_errors_[name] = failover::config_error_text(r.error);
                continue;
            }
            engine_errors_.erase(name);
            engine_ids_[name] = r.trunk_id;
            engine_view_[name] = t;
            apply_maintenance(*engine_, r.trunk_id, t, now);  // issue 7 (state.cc)
            continue;
        }
        TrunkConfig& seen = engine_view_[name];
        if (seen.identities != t.identities || seen.domain != t.domain) {
            // The engine has no identity update: this trunk starts over under
            // a new id (its registrations anew); the others are untouched.
            remove_from_engine(name, now);
            const failover::AddResult r = engine_->add_trunk(to_add_trunk(t), now);
            if (r.error != failover::ConfigError::ok) {
                engine_errors_[name] = failover::config_error_text(r.error);
                continue;
            }
            engine_ids_[name] = r.trunk_id;
            engine_view_[name] = t;
            apply_maintenance(*engine_, r.trunk_id, t, now);
            continue;
        }
        const uint32_t id = engine_ids_[name];
        if (!(seen.knobs == t.knobs)) engine_->set_knobs(id, to_trunk_knobs(t.knobs), now);
        if (seen.servers != t.servers) engine_->update_servers(id, to_server_set(t), now);
        if (seen.maintenance != t.maintenance || seen.maintenance_addrs != t.maintenance_addrs ||
            seen.servers != t.servers)
            apply_maintenance(*engine_, id, t, now);  // issue 7 (state.cc): set_admin, no rebuild
        seen = t;
    }
}

void Controller::deliver_notices() {
    monitor_->collect(*engine_, clock_());  // event log and `monitor events`
    if (!notice_sink_) return;
    for (const failover::Action& a : engine_->actions())
        if (a.kind == failover::ActionKind::notify) notice_sink_(a.notice);
}

void Controller::tick() {
    engine_->tick(clock_());
    deliver_notices();
    // No data plane attached: REGISTER/OPTIONS actions have nowhere to go.
    engine_->clear_actions();
}

// ---- secrets file: "<trunk> <user> <password>" per line, mode 0600 -------------------------

Status Controller::load_secrets() {
    if (opt_.secrets_path.empty()) return Ok{};
    std::ifstream in(opt_.secrets_path);
    if (!in) {
        if (access(opt_.secrets_path.c_str(), F_OK) != 0) return Ok{};  // none yet
        return err(EACCES, opt_.secrets_path + ": cannot read");
    }
    struct stat st{};
    if (stat(opt_.secrets_path.c_str(), &st) == 0 && (st.st_mode & 077))
        return err(EPERM, opt_.secrets_path + ": secrets file must not be readable by group or others (chmod 600)");
    std::map<std::pair<std::string, std::string>, std::string> s;
    std::string line;
    for (size_t n = 1; std::getline(in, line); n++) {
        if (is_blank_or_comment(line)) continue;
        auto w = tokenize(line);
        if (!w || w.value().size() != 3)
            return err(EINVAL, opt_.secrets_path + ":" + std::to_string(n) + ": expected <trunk> <user> <password>");
        s[{w.value()[0], w.value()[1]}] = w.value()[2];
    }
    secrets_ = std::move(s);
    return Ok{};
}

Status Controller::record_route_key(uint64_t key[2]) {
    auto hex = [](std::string_view h, uint64_t& v) {
        if (h.size() != 16) return false;
        v = 0;
        for (char c : h) {
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return false;
            v = v << 4 | uint64_t(d);
        }
        return true;
    };
    if (auto it = secrets_.find({"@rr", "key"}); it != secrets_.end()) {
        const std::string& h = it->second;
        if (h.size() != 32 || !hex(std::string_view(h).substr(0, 16), key[0]) || !hex(std::string_view(h).substr(16), key[1]))
            return err(EINVAL, opt_.secrets_path + ": @rr key: expected 32 hex digits (delete the line to draw a new key)");
        rr_key_ = h;
        return Ok{};
    }
    if (getrandom(key, 2 * sizeof(uint64_t), 0) != ssize_t(2 * sizeof(uint64_t)))
        return err(errno, std::string("getrandom: ") + std::strerror(errno));
    char h[33];
    std::snprintf(h, sizeof h, "%016llx%016llx", static_cast<unsigned long long>(key[0]),
                  static_cast<unsigned long long>(key[1]));
    if (opt_.secrets_path.empty()) return Ok{};  // in memory only: a restart draws another
    rr_key_ = h;
    secrets_[{"@rr", "key"}] = rr_key_;
    return save_secrets();
}

Status Controller::save_secrets() const {
    if (opt_.secrets_path.empty()) return Ok{};
    const std::string tmp = opt_.secrets_path + ".tmp";
    unlink(tmp.c_str());
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return err(errno, tmp + ": cannot create secrets file");
    std::string text = "# sipedge identity passwords: <trunk> <user> <password>. Keep mode 0600.\n";
    for (const auto& [key, pw] : secrets_)
        text += quote_word(key.first) + " " + quote_word(key.second) + " " + quote_word(pw) + "\n";
    bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
    ok = fsync(fd) == 0 && ok;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp.c_str(), opt_.secrets_path.c_str()) != 0) {
        unlink(tmp.c_str());
        return err(EIO, opt_.secrets_path + ": cannot write secrets file");
    }
    return Ok{};
}

}  // namespace sipedge::ctl
