// dataplane/route_table: digit-pattern translation, the ranking rules, source
// restrictions, refused patterns, and 5,000 generated patterns checked
// against a brute-force reference (a backtracking digit matcher written here
// and std::regex for regexes).

#include "dataplane/route_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <regex>
#include <tuple>

namespace sipedge::dp {
namespace {

DigitPattern tr(std::string_view p) {
    auto r = translate_digits(p);
    EXPECT_TRUE(r.ok()) << p << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : DigitPattern{};
}

std::string tr_error(std::string_view p) {
    auto r = translate_digits(p);
    EXPECT_FALSE(r.ok()) << p << " was accepted as " << (r.ok() ? r.value().regex : "");
    return r.ok() ? "" : r.error().message;
}

RouteSpec digits(uint32_t id, std::string p, uint32_t target = 0, uint32_t prio = default_route_priority) {
    RouteSpec s;
    s.id = id;
    s.kind = RouteKind::digits;
    s.pattern = std::move(p);
    s.target = target;
    s.priority = prio;
    return s;
}

RouteSpec regex(uint32_t id, std::string p, uint32_t target = 0, uint32_t prio = default_route_priority) {
    RouteSpec s = digits(id, std::move(p), target, prio);
    s.kind = RouteKind::regex;
    return s;
}

RouteSpec with_source(RouteSpec s, const char* cidr) {
    const Status st = parse_ipv4_prefix(cidr, s.src_addr, s.src_len);
    EXPECT_TRUE(st.ok()) << cidr;
    return s;
}

uint32_t ip(const char* t) {
    uint32_t a = 0;
    EXPECT_TRUE(parse_source_ipv4(t, a)) << t;
    return a;
}

struct Built {
    std::unique_ptr<RouteTable> table;
    RouteScratch scratch;
};

Built build(const std::vector<RouteSpec>& specs) {
    Built b;
    auto t = RouteTable::compile(specs);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    if (!t.ok()) return b;
    b.table = std::move(t.value());
    auto s = b.table->clone_scratch();
    EXPECT_TRUE(s.ok());
    if (s.ok()) b.scratch = std::move(s.value());
    return b;
}

// The winning id, or -1 for no match, -2 for bad input, -3 for a scan error.
int64_t win(Built& b, std::string_view user, uint32_t src = 0) {
    RouteHit h;
    switch (b.table->lookup(b.scratch, user, src, h)) {
    case RouteStatus::matched: return h.id;
    case RouteStatus::no_match: return -1;
    case RouteStatus::bad_input: return -2;
    case RouteStatus::scan_error: return -3;
    }
    return -4;
}

// ---- translation ----------------------------------------------------------------------

TEST(RouteDigits, EveryConstruct) {
    EXPECT_EQ(tr("5551234").regex, "^5551234$");
    EXPECT_EQ(tr("9XXX").regex, "^9[0-9][0-9][0-9]$");
    EXPECT_EQ(tr("9xx").regex, "^9[0-9][0-9]$");
    EXPECT_EQ(tr("[1-5]").regex, "^[1-5]$");
    EXPECT_EQ(tr("[^0]").regex, "^[1-9]$");
    EXPECT_EQ(tr("[13-5]").regex, "^[13-5]$");
    EXPECT_EQ(tr("[23]").regex, "^[23]$");
    EXPECT_EQ(tr("[2-3]").regex, "^[23]$");
    EXPECT_EQ(tr("[^0-8]").regex, "^9$");
    EXPECT_EQ(tr("[0-9]").regex, "^[0-9]$");
    EXPECT_EQ(tr("[^13579]").regex, "^[02468]$");
    EXPECT_EQ(tr("9!").regex, "^9[0-9]+$");
    EXPECT_EQ(tr("91.").regex, "^91+$");
    EXPECT_EQ(tr("9X.").regex, "^9[0-9]+$");
    EXPECT_EQ(tr("9[2-4].").regex, "^9[2-4]+$");
    EXPECT_EQ(tr("9X?").regex, "^9[0-9]*$");
    EXPECT_EQ(tr("*67X").regex, "^\\*67[0-9]$");
    EXPECT_EQ(tr("#31#").regex, "^#31#$");
    EXPECT_EQ(tr("*.").regex, "^\\*+$");
    EXPECT_EQ(tr("+1XXX").regex, "^\\+1[0-9][0-9][0-9]$");
    EXPECT_EQ(tr("\\+44!").regex, "^\\+44[0-9]+$");
    EXPECT_EQ(tr("+").regex, "^\\+$");
}

TEST(RouteDigits, Measures) {
    DigitPattern p = tr("12XX");
    EXPECT_FALSE(p.variable);
    EXPECT_EQ(p.count, 100u);
    EXPECT_EQ(p.literal_prefix, 2u);
    EXPECT_EQ(p.min_len, 4u);
    p = tr("1[2-4][^0]X");
    EXPECT_EQ(p.count, 3u * 9u * 10u);
    EXPECT_EQ(p.literal_prefix, 1u);
    p = tr("+1!");
    EXPECT_TRUE(p.variable);
    EXPECT_EQ(p.min_len, 3u);
    EXPECT_EQ(p.count, 10u);
    EXPECT_EQ(p.literal_prefix, 2u);
    p = tr("9X?1");
    EXPECT_EQ(p.min_len, 2u);  // '?' elements are optional
    EXPECT_EQ(p.count, 1u);
    EXPECT_EQ(p.elements, 3u);
    p = tr("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");  // 32 elements: 10^32 fits
    EXPECT_EQ(count_text(p.count), "1" + std::string(32, '0'));
}

TEST(RouteDigits, RefusedWithPositionAndReason) {
    EXPECT_NE(tr_error("").find("empty"), std::string::npos);
    std::string e = tr_error("9+1");
    EXPECT_NE(e.find("character 2"), std::string::npos) << e;
    EXPECT_NE(e.find("leading plus"), std::string::npos) << e;
    e = tr_error("9@");
    EXPECT_NE(e.find("character 2"), std::string::npos) << e;
    EXPECT_NE(e.find("NANP"), std::string::npos) << e;
    EXPECT_NE(tr_error(".9").find("character 1"), std::string::npos);
    EXPECT_NE(tr_error("9..").find("already repeated"), std::string::npos);
    EXPECT_NE(tr_error("9!.").find("after '!'"), std::string::npos);
    EXPECT_NE(tr_error("9[5-1]").find("backwards"), std::string::npos);
    EXPECT_NE(tr_error("9[a]").find("character 3"), std::string::npos);
    EXPECT_NE(tr_error("9[12").find("without ']'"), std::string::npos);
    EXPECT_NE(tr_error("9]").find("without '['"), std::string::npos);
    EXPECT_NE(tr_error("9[]").find("empty set"), std::string::npos);
    EXPECT_NE(tr_error("[^0-9]").find("no digit"), std::string::npos);
    EXPECT_NE(tr_error("9[1-]").find("join two digits"), std::string::npos);
    EXPECT_NE(tr_error("9 1").find("unexpected ' '"), std::string::npos);
    EXPECT_NE(tr_error("X?").find("empty string"), std::string::npos);
    EXPECT_NE(tr_error("+?").find("leading '+'"), std::string::npos);
    EXPECT_NE(tr_error(std::string(33, 'X')).find("more than 32"), std::string::npos);
    EXPECT_NE(tr_error(std::string(129, '1')).find("longer than 128"), std::string::npos);
}

TEST(RouteDigits, MatchesWhatTheRulesSay) {
    Built b = build({digits(1, "9X."), digits(2, "[^0]5?7"), digits(3, "+44!"), digits(4, "*67#"), digits(5, "8[2-4]")});
    EXPECT_EQ(win(b, "91"), 1);
    EXPECT_EQ(win(b, "9123456"), 1);
    EXPECT_EQ(win(b, "9"), -1);
    EXPECT_EQ(win(b, "917a"), -1);
    EXPECT_EQ(win(b, "17"), 2);
    EXPECT_EQ(win(b, "1557"), 2);
    EXPECT_EQ(win(b, "07"), -1);
    EXPECT_EQ(win(b, "+442079"), 3);
    EXPECT_EQ(win(b, "%2B442079"), 3);  // %-escapes are decoded
    EXPECT_EQ(win(b, "442079"), -1);
    EXPECT_EQ(win(b, "+44"), -1);
    EXPECT_EQ(win(b, "*67#"), 4);
    EXPECT_EQ(win(b, "*67%23"), 4);
    EXPECT_EQ(win(b, "83"), 5);
    EXPECT_EQ(win(b, "85"), -1);
    EXPECT_EQ(win(b, "833"), -1);  // anchored at both ends
    EXPECT_EQ(win(b, "x83"), -1);
}

// ---- ranking ----------------------------------------------------------------------------

TEST(RouteRank, MostSpecificWins) {
    Built b = build({digits(1, "1XXX"), digits(2, "12XX"), digits(3, "123X"), digits(4, "1234"), digits(5, "1!"),
                     regex(6, "[0-9]+"), digits(7, "1[23]XX")});
    EXPECT_EQ(win(b, "1234"), 4);   // 1 string
    EXPECT_EQ(win(b, "1235"), 3);   // 10
    EXPECT_EQ(win(b, "1245"), 2);   // 100 (1[23]XX: 200)
    EXPECT_EQ(win(b, "1345"), 7);   // 200 beats 1XXX's 1000
    EXPECT_EQ(win(b, "1456"), 1);   // 1000
    EXPECT_EQ(win(b, "12345"), 5);  // only the variable-length digit pattern and the regex: digits first
    EXPECT_EQ(win(b, "1"), 6);      // only the regex
}

TEST(RouteRank, VariableLengthPatterns) {
    Built b = build({digits(1, "9!"), digits(2, "9011!"), digits(3, "9XXX!"), digits(4, "9[01]1!"), digits(5, "9X1!"),
                     digits(6, "9XXXXX")});
    EXPECT_EQ(win(b, "9011441234"), 2);  // minimum length 5 (9011!, 9XXX!), then 1 < 1000 choices
    EXPECT_EQ(win(b, "9555555555"), 3);  // 9XXX! (min 5) beats 9! (min 2)
    EXPECT_EQ(win(b, "9111"), 4);        // min 4 both; [01] (2) beats X (10)
    EXPECT_EQ(win(b, "9211"), 5);
    EXPECT_EQ(win(b, "92"), 1);
    EXPECT_EQ(win(b, "901144"), 6);      // a fixed-length match beats every variable-length one
}

TEST(RouteRank, LiteralPrefixThenSourceThenId) {
    // Same count (100): the longer literal prefix wins.
    Built b = build({digits(1, "1XX2"), digits(2, "12XX")});
    EXPECT_EQ(win(b, "1232"), 2);
    // Same pattern: the longer source prefix, then the lower id.
    Built c = build({digits(10, "1XXX"), with_source(digits(11, "1XXX"), "10.0.0.0/8"),
                     with_source(digits(12, "1XXX"), "10.1.0.0/16"), digits(9, "1XXX")});
    EXPECT_EQ(win(c, "1000", ip("10.1.2.3")), 12);
    EXPECT_EQ(win(c, "1000", ip("10.2.0.1")), 11);
    EXPECT_EQ(win(c, "1000", ip("192.0.2.1")), 9);
    // The ranking order as the table reports it.
    ASSERT_EQ(c.table->size(), 4u);
    EXPECT_EQ(c.table->info(0).id, 12u);
    EXPECT_EQ(c.table->info(1).id, 11u);
    EXPECT_EQ(c.table->info(2).id, 9u);
    EXPECT_EQ(c.table->info(3).id, 10u);
    EXPECT_NE(c.table->describe(0).find("source 10.1.0.0/16"), std::string::npos) << c.table->describe(0);
}

TEST(RouteRank, PriorityComesFirst) {
    Built b = build({digits(1, "1234"), regex(2, "1[0-9]+", 0, 50), digits(3, "12XX", 0, 40), digits(4, "1XXX", 0, 200)});
    EXPECT_EQ(win(b, "1234"), 3);  // priority 40
    EXPECT_EQ(win(b, "1334"), 2);  // priority 50 regex over 1XXX (200)
    // Same priority: regexes rank after digit patterns, then by id.
    Built c = build({regex(5, "5[0-9]*"), regex(4, "5.*"), digits(6, "5!")});
    EXPECT_EQ(win(c, "5123"), 6);
    EXPECT_EQ(win(c, "5"), 4);
    EXPECT_EQ(win(c, "5a"), 4);
}

TEST(RouteSource, RestrictedPatternsOnlyMatchTheirSource) {
    Built b = build({with_source(digits(1, "0!"), "192.0.2.0/24"), with_source(digits(2, "00!"), "198.51.100.7")});
    EXPECT_EQ(win(b, "0123", ip("192.0.2.200")), 1);
    EXPECT_EQ(win(b, "0123", ip("192.0.3.1")), -1);
    EXPECT_EQ(win(b, "00123", ip("198.51.100.7")), 2);
    EXPECT_EQ(win(b, "00123", ip("198.51.100.8")), -1);
    EXPECT_EQ(win(b, "00123", ip("192.0.2.1")), 1);  // 00! is more specific but not for this source
    auto ex = b.table->explain("00123", ip("192.0.2.1"));
    ASSERT_TRUE(ex.ok());
    ASSERT_EQ(ex.value().size(), 2u);
    EXPECT_EQ(b.table->info(ex.value()[0].rank).id, 2u);
    EXPECT_FALSE(ex.value()[0].source_ok);
    EXPECT_TRUE(ex.value()[1].source_ok);
}

TEST(RouteSource, PrefixParsing) {
    uint32_t a = 0;
    uint8_t l = 0;
    EXPECT_TRUE(parse_ipv4_prefix("10.1.0.0/16", a, l).ok());
    EXPECT_EQ(a, 0x0a010000u);
    EXPECT_EQ(l, 16u);
    EXPECT_TRUE(parse_ipv4_prefix("0.0.0.0/0", a, l).ok());
    EXPECT_EQ(l, 0u);
    EXPECT_TRUE(parse_ipv4_prefix("192.0.2.7", a, l).ok());
    EXPECT_EQ(l, 32u);
    Status s = parse_ipv4_prefix("10.1.2.3/16", a, l);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("host bits set; the prefix is 10.1.0.0/16"), std::string::npos);
    EXPECT_FALSE(parse_ipv4_prefix("10.1.0.0/33", a, l).ok());
    EXPECT_FALSE(parse_ipv4_prefix("10.1.0/16", a, l).ok());
    EXPECT_FALSE(parse_ipv4_prefix("10.01.0.0/16", a, l).ok());
    EXPECT_FALSE(parse_ipv4_prefix("256.0.0.0/8", a, l).ok());
    EXPECT_FALSE(parse_ipv4_prefix("10.0.0.0/", a, l).ok());
}

// ---- refused tables, inputs -------------------------------------------------------------

TEST(RouteCompile, BadPatternRefusedWithIndexAndMessage) {
    int bad = -7;
    auto r = RouteTable::compile(std::vector<RouteSpec>{digits(1, "1XX"), regex(2, "2[0-9]+"), digits(3, "9[12")}, &bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(bad, 2);
    EXPECT_NE(r.error().message.find("pattern #2 (id 3) '9[12'"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("without ']'"), std::string::npos) << r.error().message;

    // Hyperscan's own error for a regex, mapped back from its rank to the input index.
    r = RouteTable::compile(std::vector<RouteSpec>{digits(1, "1XX"), regex(2, "2[0-9]+"), regex(3, "3(4"),
                                                   digits(4, "5")},
                            &bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(bad, 2);
    EXPECT_NE(r.error().message.find("pattern #2 (id 3) '3(4'"), std::string::npos) << r.error().message;
    r = RouteTable::compile(std::vector<RouteSpec>{regex(8, "a\\1")}, &bad);  // back-references: not in Hyperscan
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(bad, 0);
    r = RouteTable::compile(std::vector<RouteSpec>{regex(8, "")}, &bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(bad, 0);
    EXPECT_NE(r.error().message.find("empty regular expression"), std::string::npos) << r.error().message;

    r = RouteTable::compile(std::vector<RouteSpec>{digits(5, "1"), digits(6, "2"), digits(5, "3")}, &bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(bad, 2);
    EXPECT_NE(r.error().message.find("id 5 is also pattern #0"), std::string::npos) << r.error().message;

    RouteSpec s = digits(1, "1");
    s.src_addr = ip("10.0.0.1");
    s.src_len = 8;
    r = RouteTable::compile(std::vector<RouteSpec>{s}, &bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("host bits"), std::string::npos);

    EXPECT_TRUE(RouteTable::check(regex(1, "1[0-9]{3}")).ok());
    EXPECT_FALSE(RouteTable::check(regex(1, "1[0-9")).ok());
    EXPECT_FALSE(RouteTable::check(digits(1, "1@")).ok());
}

TEST(RouteLookup, InputsAndScratch) {
    Built b = build({regex(1, ".+")});
    EXPECT_EQ(win(b, std::string(128, '1')), 1);
    EXPECT_EQ(win(b, std::string(129, '1')), -2);  // too long
    EXPECT_EQ(win(b, "12%3"), -2);                 // cut escape
    EXPECT_EQ(win(b, "12%zz"), -2);
    EXPECT_EQ(win(b, "12%0a"), -2);                // control character
    EXPECT_EQ(win(b, ""), -1);
    RouteScratch none;
    RouteHit h;
    EXPECT_EQ(b.table->lookup(none, "1", 0, h), RouteStatus::scan_error);
    // An empty table matches nothing and needs no scratch.
    Built e = build({});
    EXPECT_EQ(win(e, "123"), -1);
}

// ---- 5,000 generated patterns against a brute-force reference ----------------------------

struct El {
    uint16_t set;  // bits 0-9 digits, 10 '*', 11 '#', 12 '+'
    char quant;    // 0, '+', '*'
};

struct Gen {
    RouteSpec spec;
    std::vector<El> els;  // digit patterns
    std::regex re;        // regexes
};

bool ref_match(const std::vector<El>& els, size_t e, const std::string& s, size_t i) {
    if (e == els.size()) return i == s.size();
    auto in = [&](size_t k) {
        if (k >= s.size()) return false;
        const char c = s[k];
        const int bit = c >= '0' && c <= '9' ? c - '0' : c == '*' ? 10 : c == '#' ? 11 : c == '+' ? 12 : -1;
        return bit >= 0 && (els[e].set >> bit & 1);
    };
    if (els[e].quant == 0) return in(i) && ref_match(els, e + 1, s, i + 1);
    size_t k = i;
    if (els[e].quant == '+') {
        if (!in(k)) return false;
        k++;
    }
    for (;; k++) {
        if (ref_match(els, e + 1, s, k)) return true;
        if (!in(k)) return false;
    }
}

// Reference key of the ranking rules, computed from the generator's elements.
std::tuple<uint32_t, int, uint64_t, int, uint64_t, int, int, uint32_t> ref_key(const Gen& g) {
    const RouteSpec& s = g.spec;
    if (s.kind == RouteKind::regex) return {s.priority, 2, 0, 0, 0, 0, -s.src_len, s.id};
    bool variable = false;
    int min_len = 0, prefix = 0;
    uint64_t count = 1;
    bool in_prefix = true;
    for (const El& e : g.els) {
        variable |= e.quant != 0;
        if (e.quant != '*') {
            min_len++;
            count *= uint64_t(std::popcount(e.set));
        }
        if (in_prefix && std::popcount(e.set) == 1 && e.quant == 0) prefix++;
        else in_prefix = false;
    }
    if (!variable) return {s.priority, 0, count, 0, 0, -prefix, -s.src_len, s.id};
    return {s.priority, 1, 0, -min_len, count, -prefix, -s.src_len, s.id};
}

std::string render(const std::vector<El>& els, std::mt19937& rng) {
    std::string p;
    for (const El& e : els) {
        if (e.set == (1u << 12)) { p += '+'; continue; }
        if (e.set == 0x3ff && e.quant == '+' && rng() % 2) { p += '!'; continue; }
        if (e.set == (1u << 10)) p += '*';
        else if (e.set == (1u << 11)) p += '#';
        else if (std::popcount(e.set) == 1) p += char('0' + std::countr_zero(e.set));
        else if (e.set == 0x3ff) p += rng() % 4 ? 'X' : 'x';
        else if (std::popcount(e.set) > 5) {
            p += "[^";
            for (int d = 0; d < 10; d++)
                if (!(e.set >> d & 1)) p += char('0' + d);
            p += ']';
        } else {
            p += '[';
            for (int d = 0; d < 10; d++)
                if (e.set >> d & 1) p += char('0' + d);
            p += ']';
        }
        if (e.quant) p += e.quant == '+' ? '.' : '?';
    }
    return p;
}

std::string sample(const std::vector<El>& els, std::mt19937& rng) {
    auto pick = [&](uint16_t set) {
        std::vector<char> c;
        for (int b = 0; b < 13; b++)
            if (set >> b & 1) c.push_back(b < 10 ? char('0' + b) : b == 10 ? '*' : b == 11 ? '#' : '+');
        return c[rng() % c.size()];
    };
    std::string s;
    for (const El& e : els) {
        const int n = e.quant == 0 ? 1 : e.quant == '+' ? 1 + int(rng() % 3) : int(rng() % 3);
        for (int k = 0; k < n; k++) s += pick(e.set);
    }
    return s;
}

TEST(RouteRandom, FiveThousandPatternsAgreeWithBruteForce) {
    std::mt19937 rng(20261123);
    const char* prefixes[] = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.0.2.0/24"};
    const uint32_t sources[] = {ip("10.1.2.3"), ip("10.1.9.9"), ip("10.200.0.1"), ip("192.0.2.7"), ip("198.51.100.1")};
    std::vector<Gen> gens;
    std::vector<RouteSpec> specs;
    for (uint32_t i = 0; i < 5000; i++) {
        Gen g;
        g.spec.id = 100000 - i * 7;  // ids not in input order
        g.spec.target = i;
        g.spec.priority = rng() % 8 == 0 ? 50 : default_route_priority;
        if (rng() % 4 == 0) {
            Status s = parse_ipv4_prefix(prefixes[rng() % 4], g.spec.src_addr, g.spec.src_len);
            EXPECT_TRUE(s.ok());
        }
        if (i % 50 == 0) {  // 100 regexes
            const std::string d1(1, char('0' + rng() % 10)), d2(1, char('0' + rng() % 10));
            switch (rng() % 3) {
            case 0: g.spec.pattern = d1 + d2 + "[0-9]{" + std::to_string(2 + rng() % 3) + ",6}"; break;
            case 1: g.spec.pattern = "(" + d1 + "|" + d2 + ")" + d2 + "[0-9]*"; break;
            default: g.spec.pattern = "(\\+|00)" + d1 + "[0-9]+"; break;
            }
            g.spec.kind = RouteKind::regex;
            g.re = std::regex(g.spec.pattern);
        } else {
            if (rng() % 10 == 0) g.els.push_back({uint16_t(1u << 12), 0});
            const int n = 2 + int(rng() % 9);
            for (int k = 0; k < n; k++) {
                const unsigned r = rng() % 100;
                uint16_t set;
                if (r < 55) set = uint16_t(1u << (rng() % 10));
                else if (r < 80) set = 0x3ff;
                else if (r < 94) {
                    do set = uint16_t(rng() & 0x3ff); while (std::popcount(set) < 2 || set == 0x3ff);
                } else set = uint16_t(1u << (10 + rng() % 2));
                g.els.push_back({set, 0});
            }
            const unsigned v = rng() % 10;
            if (v == 0) g.els.push_back({0x3ff, '+'});                                    // !
            else if (v == 1) g.els[g.els.size() - 1 - rng() % 2].quant = '+';               // .
            else if (v == 2 && g.els.back().set != (1u << 12)) g.els.back().quant = '*';   // ?
            if (g.els.back().set == (1u << 12)) g.els.back().quant = 0;
            g.spec.pattern = render(g.els, rng);
        }
        specs.push_back(g.spec);
        gens.push_back(std::move(g));
    }
    int bad = -1;
    auto compiled = RouteTable::compile(specs, &bad);
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    const RouteTable& table = *compiled.value();
    auto scratch = table.clone_scratch();
    ASSERT_TRUE(scratch.ok());
    ASSERT_EQ(table.size(), 5000u);

    // Numbers: samples of random patterns (most match something), some mutated, some random digits.
    size_t matched = 0, checked = 0;
    // Bounded in count and in time (sanitizer builds run it several times slower).
    const auto t1 = std::chrono::steady_clock::now();
    for (int n = 0; n < 1500 && std::chrono::steady_clock::now() - t1 < std::chrono::seconds(20); n++) {
        std::string num;
        const Gen& g = gens[rng() % gens.size()];
        if (n % 5 == 4 || g.spec.kind == RouteKind::regex) {
            for (int k = 0, len = 3 + int(rng() % 10); k < len; k++) num += char('0' + rng() % 10);
        } else {
            num = sample(g.els, rng);
            if (n % 7 == 3 && !num.empty()) num[rng() % num.size()] = char('0' + rng() % 10);
        }
        if (num.empty()) continue;
        const uint32_t src = sources[rng() % 5];
        // Brute force: every pattern, its own matcher, then the reference key.
        const Gen* best = nullptr;
        for (const Gen& c : gens) {
            const uint32_t mask = c.spec.src_len ? ~uint32_t(0) << (32 - c.spec.src_len) : 0;
            if ((src & mask) != c.spec.src_addr) continue;
            const bool m = c.spec.kind == RouteKind::regex ? std::regex_match(num, c.re) : ref_match(c.els, 0, num, 0);
            if (m && (!best || ref_key(c) < ref_key(*best))) best = &c;
        }
        std::string user = num;
        if (n % 3 == 0) {  // the same number %-escaped as a SIP URI may carry it
            user.clear();
            for (const char c : num) user += c == '#' ? std::string("%23") : c == '+' ? std::string("%2B") : std::string(1, c);
        }
        RouteHit hit;
        const RouteStatus st = table.lookup(scratch.value(), user, src, hit);
        checked++;
        if (!best) {
            EXPECT_EQ(st, RouteStatus::no_match) << num << " got id " << hit.id << " '" << table.info(hit.rank).digits.regex << "'";
            continue;
        }
        matched++;
        ASSERT_EQ(st, RouteStatus::matched) << num << ": expected id " << best->spec.id << " '" << best->spec.pattern << "'";
        EXPECT_EQ(hit.id, best->spec.id) << num << " from " << src << ": got '" << table.info(hit.rank).digits.regex
                                         << "' (" << table.describe(hit.rank) << "), expected '" << best->spec.pattern << "'";
        EXPECT_EQ(hit.target, best->spec.target);
    }
    EXPECT_GE(checked, 150u) << "too few numbers checked in the time allowed";
    EXPECT_GT(matched, checked / 2) << "the generator should produce mostly matching numbers";
    EXPECT_LT(matched, checked) << "and some that match nothing";
}

}  // namespace
}  // namespace sipedge::dp
