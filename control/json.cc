#include "control/json.h"

#include <cstdio>

namespace sipedge::ctl {

Json& Json::push(Json v) {
    if (type_ == Type::null) type_ = Type::array;
    items_.push_back(std::move(v));
    return items_.back();
}

Json& Json::set(std::string key, Json v) {
    if (type_ == Type::null) type_ = Type::object;
    for (auto& m : members_)
        if (m.first == key) {
            m.second = std::move(v);
            return m.second;
        }
    members_.emplace_back(std::move(key), std::move(v));
    return members_.back().second;
}

const Json* Json::get(std::string_view key) const noexcept {
    for (const auto& m : members_)
        if (m.first == key) return &m.second;
    return nullptr;
}

size_t utf8_sequence(std::string_view s, size_t i, size_t& bad) noexcept {
    // Unicode §3.9 Table 3-7: the second byte's range depends on the lead
    // byte (no overlongs, no surrogates D800-DFFF, nothing past U+10FFFF).
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return 1;
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c == 0xe0) need = 2, lo = 0xa0;
    else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) need = 2;
    else if (c == 0xed) need = 2, hi = 0x9f;
    else if (c == 0xf0) need = 3, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c == 0xf4) need = 3, hi = 0x8f;
    else {
        bad = 1;  // 80-C1, F5-FF never start a sequence
        return 0;
    }
    size_t k = 1;
    for (; k <= need && i + k < s.size(); k++) {
        const auto d = static_cast<unsigned char>(s[i + k]);
        if (d < lo || d > hi) break;
        lo = 0x80;
        hi = 0xbf;
    }
    if (k > need) return need + 1;
    bad = k;  // the lead byte and the continuation bytes that fit
    return 0;
}

bool utf8_valid(std::string_view s, size_t* at) noexcept {
    for (size_t i = 0; i < s.size();) {
        size_t bad = 0;
        const size_t n = utf8_sequence(s, i, bad);
        if (n == 0) {
            if (at) *at = i;
            return false;
        }
        i += n;
    }
    return true;
}

void json_quote(std::string& out, std::string_view s) {
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            size_t bad = 0;
            const size_t n = utf8_sequence(s, i, bad);
            if (n) out.append(s.data() + i, n);
            else out += "\\ufffd";
            i += n ? n : bad;
            continue;
        }
        i++;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", unsigned(c));
                out += b;
            } else {
                out += char(c);
            }
        }
    }
    out += '"';
}

void Json::dump_to(std::string& out) const {
    switch (type_) {
    case Type::null: out += "null"; break;
    case Type::boolean: out += b_ ? "true" : "false"; break;
    case Type::number: out += std::to_string(n_); break;
    case Type::string: json_quote(out, s_); break;
    case Type::array:
        out += '[';
        for (size_t i = 0; i < items_.size(); i++) {
            if (i) out += ',';
            items_[i].dump_to(out);
        }
        out += ']';
        break;
    case Type::object:
        out += '{';
        for (size_t i = 0; i < members_.size(); i++) {
            if (i) out += ',';
            json_quote(out, members_[i].first);
            out += ':';
            members_[i].second.dump_to(out);
        }
        out += '}';
        break;
    }
}

std::string Json::dump() const {
    std::string s;
    dump_to(s);
    return s;
}

namespace {

// Recursive-descent parser over <t>; depth-limited so a hostile reply cannot
// exhaust the stack.
struct Parser {
    std::string_view t;
    size_t i = 0;
    int depth = 0;

    void ws() {
        while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) i++;
    }
    Error fail(const char* what) const { return err(EINVAL, std::string("json: ") + what + " at offset " + std::to_string(i)); }

    static void put_utf8(std::string& s, uint32_t cp) {
        if (cp < 0x80) {
            s += char(cp);
        } else if (cp < 0x800) {
            s += char(0xc0 | (cp >> 6));
            s += char(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            s += char(0xe0 | (cp >> 12));
            s += char(0x80 | ((cp >> 6) & 0x3f));
            s += char(0x80 | (cp & 0x3f));
        } else {
            s += char(0xf0 | (cp >> 18));
            s += char(0x80 | ((cp >> 12) & 0x3f));
            s += char(0x80 | ((cp >> 6) & 0x3f));
            s += char(0x80 | (cp & 0x3f));
        }
    }

    bool hex4(uint32_t& v) {
        if (i + 4 > t.size()) return false;
        v = 0;
        for (int k = 0; k < 4; k++) {
            const char c = t[i++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
            else return false;
        }
        return true;
    }

    Result<std::string> str() {
        std::string s;
        i++;  // opening quote
        while (i < t.size()) {
            const char c = t[i++];
            if (c == '"') return s;
            if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
            if (static_cast<unsigned char>(c) >= 0x80) {
                size_t bad = 0;
                const size_t n = utf8_sequence(t, i - 1, bad);
                if (n == 0) {
                    i--;
                    return fail("ill-formed UTF-8 in string");
                }
                s.append(t.data() + i - 1, n);
                i += n - 1;
                continue;
            }
            if (c != '\\') {
                s += c;
                continue;
            }
            if (i >= t.size()) break;
            const char e = t[i++];
            switch (e) {
            case '"': s += '"'; break;
            case '\\': s += '\\'; break;
            case '/': s += '/'; break;
            case 'b': s += '\b'; break;
            case 'f': s += '\f'; break;
            case 'n': s += '\n'; break;
            case 'r': s += '\r'; break;
            case 't': s += '\t'; break;
            case 'u': {
                uint32_t cp;
                if (!hex4(cp)) return fail("bad \\u escape");
                if (cp >= 0xdc00 && cp <= 0xdfff) return fail("unpaired surrogate escape");
                if (cp >= 0xd800 && cp < 0xdc00) {
                    if (i + 1 >= t.size() || t[i] != '\\' || t[i + 1] != 'u') return fail("unpaired surrogate escape");
                    i += 2;
                    uint32_t lo;
                    if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return fail("bad surrogate pair");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                put_utf8(s, cp);
                break;
            }
            default: return fail("bad escape");
            }
        }
        return fail("unterminated string");
    }

    Result<Json> value() {
        ws();
        if (i >= t.size()) return fail("unexpected end");
        if (++depth > 64) return fail("nesting too deep");
        Result<Json> r = value_inner();
        depth--;
        return r;
    }

    Result<Json> value_inner() {
        const char c = t[i];
        if (c == '{') {
            i++;
            Json o = Json::object();
            ws();
            if (i < t.size() && t[i] == '}') {
                i++;
                return o;
            }
            for (;;) {
                ws();
                if (i >= t.size() || t[i] != '"') return fail("expected member name");
                auto k = str();
                if (!k) return k.error();
                ws();
                if (i >= t.size() || t[i] != ':') return fail("expected ':'");
                i++;
                auto v = value();
                if (!v) return v.error();
                o.set(std::move(k.value()), std::move(v.value()));
                ws();
                if (i < t.size() && t[i] == ',') { i++; continue; }
                if (i < t.size() && t[i] == '}') { i++; return o; }
                return fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            i++;
            Json a = Json::array();
            ws();
            if (i < t.size() && t[i] == ']') {
                i++;
                return a;
            }
            for (;;) {
                auto v = value();
                if (!v) return v.error();
                a.push(std::move(v.value()));
                ws();
                if (i < t.size() && t[i] == ',') { i++; continue; }
                if (i < t.size() && t[i] == ']') { i++; return a; }
                return fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            auto s = str();
            if (!s) return s.error();
            return Json(std::move(s.value()));
        }
        if (t.substr(i, 4) == "true") { i += 4; return Json(true); }
        if (t.substr(i, 5) == "false") { i += 5; return Json(false); }
        if (t.substr(i, 4) == "null") { i += 4; return Json(); }
        if (c == '-' || (c >= '0' && c <= '9')) {
            bool neg = c == '-';
            if (neg) i++;
            if (i >= t.size() || t[i] < '0' || t[i] > '9') return fail("bad number");
            if (t[i] == '0' && i + 1 < t.size() && t[i + 1] >= '0' && t[i + 1] <= '9')
                return fail("leading zero in number");
            uint64_t v = 0;
            while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
                if (v > (UINT64_MAX - 9) / 10) return fail("number too large");
                v = v * 10 + uint64_t(t[i++] - '0');
            }
            if (i < t.size() && (t[i] == '.' || t[i] == 'e' || t[i] == 'E')) return fail("fractions not supported");
            if (v > uint64_t(INT64_MAX)) return fail("number too large");
            return Json(neg ? -int64_t(v) : int64_t(v));
        }
        return fail("unexpected character");
    }
};

}  // namespace

Result<Json> Json::parse(std::string_view text) {
    Parser p{text};
    auto v = p.value();
    if (!v) return v;
    p.ws();
    if (p.i != text.size()) return p.fail("trailing characters");
    return v;
}

}  // namespace sipedge::ctl
