// The route-pattern compiler (issue 13: apart from the per-packet lookup in
// route_lookup.cc): digit patterns translated to regexes and ranked, source
// prefixes checked, the Hyperscan database built (control side, off the
// control thread for runtime compiles), and the text views of a compiled
// pattern (describe).

#include "dataplane/route_table.h"

#include <algorithm>
#include <bit>
#include <numeric>

#include <hs.h>

#include "base/decimal.h"

namespace sipedge::dp {

namespace {

constexpr uint16_t all_digits = 0x3ff;  // bits 0-9
constexpr int bit_star = 10, bit_hash = 11, bit_plus = 12;

struct Element {
    uint16_t set = 0;  // bits 0-9 digits, 10 '*', 11 '#', 12 '+'
    char quant = 0;    // 0, '+' (one or more), '*' (zero or more)
};

std::string pos_text(size_t i) { return "character " + std::to_string(i + 1); }

Error bad(std::string_view pattern, size_t i, const std::string& why) {
    return err(EINVAL, "digit pattern '" + std::string(pattern) + "': " + pos_text(i) + ": " + why);
}

// The regex of one element's set: "7", "[0-9]", "[1-5]", "[02-9]", "\*", "#", "\+".
void set_regex(uint16_t set, std::string& out) {
    if (set == (1u << bit_star)) { out += "\\*"; return; }
    if (set == (1u << bit_hash)) { out += '#'; return; }
    if (set == (1u << bit_plus)) { out += "\\+"; return; }
    if (std::popcount(set) == 1) { out += char('0' + std::countr_zero(set)); return; }
    out += '[';
    for (int d = 0; d < 10;) {
        if (!(set & (1u << d))) { d++; continue; }
        int e = d;
        while (e + 1 < 10 && (set & (1u << (e + 1)))) e++;
        out += char('0' + d);
        if (e > d) {
            if (e > d + 1) out += '-';
            out += char('0' + e);
        }
        d = e + 1;
    }
    out += ']';
}


uint32_t prefix_mask(uint8_t len) noexcept { return len == 0 ? 0 : ~uint32_t(0) << (32 - len); }

// Ranking order of RouteTable (header, rules 1-6): true when a sorts before b.
bool rank_before(const RouteInfo& a, const RouteInfo& b) noexcept {
    if (a.priority != b.priority) return a.priority < b.priority;
    if (a.cls != b.cls) return a.cls < b.cls;
    if (a.cls == 0 && a.digits.count != b.digits.count) return a.digits.count < b.digits.count;
    if (a.cls == 1) {
        if (a.digits.min_len != b.digits.min_len) return a.digits.min_len > b.digits.min_len;
        if (a.digits.count != b.digits.count) return a.digits.count < b.digits.count;
    }
    if (a.digits.literal_prefix != b.digits.literal_prefix) return a.digits.literal_prefix > b.digits.literal_prefix;
    if (a.src_len != b.src_len) return a.src_len > b.src_len;
    return a.id < b.id;
}

std::string ipv4_text(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
}


}  // namespace

// ---- digit patterns -----------------------------------------------------------------

Result<DigitPattern> translate_digits(std::string_view p) {
    if (p.empty()) return err(EINVAL, "digit pattern is empty");
    if (p.size() > max_digit_pattern_len)
        return err(EINVAL, "digit pattern '" + std::string(p.substr(0, 32)) + "...': longer than " +
                               std::to_string(max_digit_pattern_len) + " characters");
    std::vector<Element> el;
    size_t i = 0;
    if (p[0] == '+') {
        el.push_back({uint16_t(1u << bit_plus), 0});
        i = 1;
    } else if (p.size() >= 2 && p[0] == '\\' && p[1] == '+') {
        el.push_back({uint16_t(1u << bit_plus), 0});
        i = 2;
    }
    bool last_bang = false;
    for (; i < p.size(); i++) {
        const char c = p[i];
        if (c >= '0' && c <= '9') {
            el.push_back({uint16_t(1u << (c - '0')), 0});
        } else if (c == 'X' || c == 'x') {
            el.push_back({all_digits, 0});
        } else if (c == '*') {
            el.push_back({uint16_t(1u << bit_star), 0});
        } else if (c == '#') {
            el.push_back({uint16_t(1u << bit_hash), 0});
        } else if (c == '!') {
            el.push_back({all_digits, '+'});
        } else if (c == '[') {
            const size_t start = i;
            bool negate = false;
            uint16_t set = 0;
            i++;
            if (i < p.size() && p[i] == '^') {
                negate = true;
                i++;
            }
            bool any = false;
            for (; i < p.size() && p[i] != ']'; i++) {
                const char a = p[i];
                if (a < '0' || a > '9')
                    return bad(p, i, std::string("'") + a + "' in a [set]: only digits and ranges d-d");
                char b = a;
                if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
                    b = p[i + 2];
                    if (b < '0' || b > '9') return bad(p, i + 2, std::string("'") + b + "' ends a range: a digit is needed");
                    if (b < a) return bad(p, i, std::string("range ") + a + "-" + b + " runs backwards");
                    i += 2;
                } else if (i + 1 < p.size() && p[i + 1] == '-') {
                    return bad(p, i + 1, "'-' must join two digits");
                }
                for (char d = a; d <= b; d++) set = uint16_t(set | (1u << (d - '0')));
                any = true;
            }
            if (i >= p.size()) return bad(p, start, "'[' without ']'");
            if (!any) return bad(p, start, "empty set []");
            if (negate) set = uint16_t(all_digits & ~set);
            if (set == 0) return bad(p, start, "the set matches no digit");
            el.push_back({set, 0});
        } else if (c == '.' || c == '?') {
            if (el.empty())
                return bad(p, i, std::string("'") + c + "' has no element before it to repeat");
            if (last_bang) return bad(p, i, std::string("'") + c + "' after '!': '!' already means one or more digits");
            if (el.back().quant != 0) return bad(p, i, std::string("'") + c + "' repeats an element that is already repeated");
            if (el.back().set == (1u << bit_plus))
                return bad(p, i, std::string("'") + c + "' cannot repeat the leading '+'");
            el.back().quant = c == '.' ? '+' : '*';
            last_bang = false;
            continue;
        } else if (c == '+') {
            return bad(p, i, "'+' is the E.164 leading plus, allowed only as the first character; '.' repeats the preceding element");
        } else if (c == '@') {
            return bad(p, i, "the NANP '@' wildcard is not supported; write the digits with X, [ ] and !");
        } else if (c == ']') {
            return bad(p, i, "']' without '['");
        } else {
            return bad(p, i, std::string("unexpected '") + c + "'; accepted: 0-9 X [ ] ^ - ! . ? * # and a leading +");
        }
        last_bang = c == '!';
        if (el.size() > max_digit_elements)
            return bad(p, i, "more than " + std::to_string(max_digit_elements) + " elements");
    }
    DigitPattern out;
    out.regex = "^";
    out.elements = uint16_t(el.size());
    bool prefix = true;
    for (const Element& e : el) {
        set_regex(e.set, out.regex);
        if (e.quant) out.regex += e.quant;
        const unsigned size = unsigned(std::popcount(e.set));
        if (e.quant) out.variable = true;
        if (e.quant != '*') {
            out.min_len++;
            out.count *= size;
        }
        if (prefix && size == 1 && e.quant == 0) out.literal_prefix++;
        else prefix = false;
    }
    out.regex += '$';
    if (out.min_len == 0)
        return err(EINVAL, "digit pattern '" + std::string(p) + "' matches the empty string; give at least one element without '?'");
    return out;
}

std::string count_text(unsigned __int128 v) {
    if (v == 0) return "0";
    std::string s;
    while (v) {
        s += char('0' + int(v % 10));
        v /= 10;
    }
    std::reverse(s.begin(), s.end());
    return s;
}

// ---- addresses ----------------------------------------------------------------------

bool parse_source_ipv4(std::string_view t, uint32_t& addr) noexcept {
    // Four base/decimal.h octets 0-255, leading zeros refused ("010" is octal to inet_aton).
    uint32_t a = 0;
    for (int part = 0; part < 4; part++) {
        const size_t dot = t.find('.');
        if ((dot == std::string_view::npos) != (part == 3)) return false;  // exactly three dots
        uint64_t v = 0;
        if (!parse_decimal(t.substr(0, dot), 255, v)) return false;
        a = a << 8 | uint32_t(v);
        if (part < 3) t.remove_prefix(dot + 1);
    }
    addr = a;
    return true;
}

Status parse_ipv4_prefix(std::string_view t, uint32_t& addr, uint8_t& len) {
    const size_t slash = t.find('/');
    uint32_t a = 0;
    if (!parse_source_ipv4(t.substr(0, slash), a))
        return err(EINVAL, "source '" + std::string(t) + "': expected an IPv4 prefix a.b.c.d/len");
    uint32_t l = 32;
    if (slash != std::string_view::npos) {
        // One or two digits 0-32; a leading zero is taken ("/08" = /8), as it always was.
        const std::string_view n = t.substr(slash + 1);
        uint64_t v = 0;
        if (n.size() > 2 || !parse_decimal(n, 32, v, LeadingZeros::accept))
            return err(EINVAL, "source '" + std::string(t) + "': prefix length 0-32");
        l = uint32_t(v);
    }
    if (a & ~prefix_mask(uint8_t(l)))
        return err(EINVAL, "source '" + std::string(t) + "': host bits set; the prefix is " +
                               ipv4_text(a & prefix_mask(uint8_t(l))) + "/" + std::to_string(l));
    addr = a;
    len = uint8_t(l);
    return Ok{};
}


// ---- table --------------------------------------------------------------------------

RouteTable::~RouteTable() {
    if (db_) hs_free_database(db_);
}

namespace {

std::string spec_label(const RouteSpec& s, size_t index) {
    return "pattern #" + std::to_string(index) + " (id " + std::to_string(s.id) + ") '" + s.pattern + "'";
}

// Fills <info> from <s> or says what is wrong with it (without the label).
Status analyse(const RouteSpec& s, RouteInfo& info) {
    if (s.src_len > 32) return err(EINVAL, "source prefix length " + std::to_string(s.src_len) + " is over 32");
    if (s.src_addr & ~prefix_mask(s.src_len))
        return err(EINVAL, "source " + ipv4_text(s.src_addr) + "/" + std::to_string(s.src_len) + " has host bits set");
    info.id = s.id;
    info.target = s.target;
    info.priority = s.priority;
    info.kind = s.kind;
    info.src_addr = s.src_addr;
    info.src_len = s.src_len;
    if (s.kind == RouteKind::digits) {
        auto d = translate_digits(s.pattern);
        if (!d) return d.error();
        info.digits = std::move(d.value());
        info.cls = info.digits.variable ? 1 : 0;
        return Ok{};
    }
    if (s.pattern.empty()) return err(EINVAL, "empty regular expression");
    if (s.pattern.size() > 1024) return err(EINVAL, "regular expression longer than 1024 characters");
    for (const char c : s.pattern)
        if (c == '\0') return err(EINVAL, "NUL in regular expression");
    info.cls = 2;
    info.digits = DigitPattern{};
    info.digits.regex = "^(?:" + s.pattern + ")$";
    return Ok{};
}

}  // namespace

Status RouteTable::check(const RouteSpec& spec) {
    RouteInfo info;
    if (Status s = analyse(spec, info); !s) return s;
    if (spec.kind == RouteKind::digits) return Ok{};
    hs_database_t* db = nullptr;
    hs_compile_error_t* ce = nullptr;
    if (hs_compile(info.digits.regex.c_str(), HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, nullptr, &db, &ce) != HS_SUCCESS) {
        Error e = err(EINVAL, std::string("regular expression: ") + (ce && ce->message ? ce->message : "refused"));
        hs_free_compile_error(ce);
        return e;
    }
    hs_free_database(db);
    return Ok{};
}

Result<std::unique_ptr<RouteTable>> RouteTable::compile(std::span<const RouteSpec> specs, int* bad_index) {
    if (bad_index) *bad_index = -1;
    auto fail = [&](size_t index, const std::string& why) -> Error {
        if (bad_index) *bad_index = int(index);
        return err(EINVAL, spec_label(specs[index], index) + ": " + why);
    };
    std::unique_ptr<RouteTable> t(new RouteTable());
    std::vector<RouteInfo> info(specs.size());
    for (size_t i = 0; i < specs.size(); i++) {
        if (Status s = analyse(specs[i], info[i]); !s) return fail(i, s.error().message);
        info[i].spec_index = uint32_t(i);
    }
    // Unique ids: the last tie-break must decide.
    std::vector<uint32_t> by_id(specs.size());
    std::iota(by_id.begin(), by_id.end(), 0u);
    std::sort(by_id.begin(), by_id.end(), [&](uint32_t a, uint32_t b) {
        return specs[a].id != specs[b].id ? specs[a].id < specs[b].id : a < b;
    });
    for (size_t k = 1; k < by_id.size(); k++)
        if (specs[by_id[k]].id == specs[by_id[k - 1]].id)
            return fail(by_id[k], "id " + std::to_string(specs[by_id[k]].id) + " is also pattern #" +
                                      std::to_string(by_id[k - 1]));
    std::sort(info.begin(), info.end(), rank_before);
    t->hot_.resize(info.size());
    for (size_t r = 0; r < info.size(); r++)
        t->hot_[r] = RouteSource{info[r].src_addr, prefix_mask(info[r].src_len)};
    if (!info.empty()) {
        std::vector<const char*> exprs(info.size());
        std::vector<unsigned> flags(info.size(), HS_FLAG_SINGLEMATCH);
        std::vector<unsigned> ids(info.size());
        for (size_t r = 0; r < info.size(); r++) {
            exprs[r] = info[r].digits.regex.c_str();
            ids[r] = unsigned(r);  // the Hyperscan id is the rank
        }
        hs_compile_error_t* ce = nullptr;
        if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), unsigned(info.size()), HS_MODE_BLOCK, nullptr,
                             &t->db_, &ce) != HS_SUCCESS) {
            const std::string msg = ce && ce->message ? ce->message : "refused";
            const int e = ce ? ce->expression : -1;
            hs_free_compile_error(ce);
            if (e >= 0 && size_t(e) < info.size()) return fail(info[size_t(e)].spec_index, msg);
            return err(EINVAL, "route patterns: " + msg);
        }
    }
    t->info_ = std::move(info);
    return t;
}


size_t RouteTable::database_bytes() const noexcept {
    size_t n = 0;
    if (db_ && hs_database_size(db_, &n) != HS_SUCCESS) return 0;
    return n;
}


std::string RouteTable::describe(uint32_t rank) const {
    const RouteInfo& i = info_[rank];
    std::string s = "priority " + std::to_string(i.priority) + "; ";
    if (i.cls == 0) {
        s += "fixed-length digits matching " + count_text(i.digits.count) + " number" + (i.digits.count == 1 ? "" : "s");
    } else if (i.cls == 1) {
        s += "variable-length digits, at least " + std::to_string(i.digits.min_len) + " long, " +
             count_text(i.digits.count) + " combinations of its mandatory elements";
    } else {
        s += "regex (ranked after digit patterns of the same priority)";
    }
    if (i.cls != 2) s += "; literal prefix " + std::to_string(i.digits.literal_prefix);
    s += "; source " + (i.src_len ? ipv4_text(i.src_addr) + "/" + std::to_string(i.src_len) : std::string("any"));
    s += "; id " + std::to_string(i.id);
    return s;
}

}  // namespace sipedge::dp
