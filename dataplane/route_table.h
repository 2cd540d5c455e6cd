#pragma once
// Route patterns over the Request-URI user part (issue 6): Cisco-style digit
// patterns and regular expressions, compiled together into one Hyperscan
// database on the control thread; looked up on a worker with no allocation,
// no exception and no syscall.
//
// Digit patterns (translate_digits() turns each into an anchored regex):
//   0-9 * #     the literal character ('#' and '*' as they appear after %-decoding)
//   X or x      any one digit 0-9
//   [1-5] [^0]  one digit of a set: digits and d-d ranges; '^' first = all digits but these
//   !           one or more digits 0-9
//   .           one or more of the preceding element (digit, X, set, '*', '#')
//   ?           zero or more of the preceding element
//   +  or \+    a literal '+', only as the first character (E.164 leading plus)
// Anything else is refused with its position, among them Cisco's NANP '@'
// and a '.' used as CallManager's discard delimiter. At most 32 elements and
// 128 characters; a pattern must not match the empty string.
// Regex patterns are Hyperscan (PCRE subset) syntax and must match the whole
// user part: they are compiled as ^(?:<re>)$.
//
// Which of several matching patterns wins ("most specific", Cisco closest
// match; the order is total and computed once at compile time, so a lookup
// only compares one rank number per match). Smaller first:
//   1. priority (configured; default 100; lower wins);
//   2. class: fixed-length digit pattern < variable-length digit pattern (!, . or ?) < regex;
//   3. fixed-length: the number of strings it matches (product of its element
//      set sizes: literal 1, X 10, [1-5] 5); variable-length: the larger
//      minimum length (elements that must appear), then the product of the
//      set sizes of those elements; regexes: no measure (priority decides);
//   4. the longer literal prefix (leading elements that are one fixed character);
//   5. the longer source prefix (a /24 restriction beats /16 beats none);
//   6. the lower id.
// A pattern with a source prefix matches only requests from inside it.
//
// Use: the control thread compiles a table and one RouteScratch per worker
// (clone_scratch()) and publishes them together (RCU); a worker calls
// lookup(its scratch, Request-URI user, source IPv4) for each new
// dialog-creating request. A scratch belongs to its table: Hyperscan refuses
// (scan_error) one made for a smaller database, so never pair a worker's old
// scratch with a newer table.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

struct hs_database;
struct hs_scratch;

namespace sipedge::dp {

enum class RouteKind : uint8_t { digits, regex };

inline constexpr uint32_t default_route_priority = 100;
inline constexpr size_t max_route_user_len = 128;    // longer user parts never match
inline constexpr size_t max_digit_elements = 32;
inline constexpr size_t max_digit_pattern_len = 128;

/// One pattern as configured (control-thread input to RouteTable::compile()).
struct RouteSpec {
    uint32_t id = 0;        // unique in the table; the last tie-break (lower wins)
    RouteKind kind = RouteKind::digits;
    std::string pattern;
    uint32_t src_addr = 0;  // IPv4 prefix, host byte order; src_len 0 = any source
    uint8_t src_len = 0;    // 0-32; host bits must be zero
    uint32_t target = 0;    // opaque: trunk index (outbound) or access-target index (inbound)
    uint32_t priority = default_route_priority;
};

/// A digit pattern analysed: its regex and the measures of the ranking rules.
struct DigitPattern {
    std::string regex;            // anchored: ^...$
    bool variable = false;        // has !, . or ?
    uint16_t elements = 0;        // all elements (a leading '+' counts as one)
    uint16_t min_len = 0;         // elements that must appear (all but '?'-quantified)
    uint16_t literal_prefix = 0;  // leading one-character elements without quantifier
    unsigned __int128 count = 1;  // product of the set sizes of the mandatory elements
};

/// Translates a digit pattern; the error names the position and the rule broken.
Result<DigitPattern> translate_digits(std::string_view pattern);

/// The count as decimal text (numbers up to 10^32 fit).
std::string count_text(unsigned __int128 v);

/// Outcome of a lookup.
enum class RouteStatus : uint8_t {
    matched,
    no_match,
    bad_input,   // user part too long, a bad %-escape or a control character
    scan_error,  // scratch not made for this table (clone_scratch())
};

/// The winner of a lookup.
struct RouteHit {
    uint32_t id = 0;
    uint32_t target = 0;
    uint32_t rank = 0;  // position in the total order (0 = the first)
};

class RouteTable;

/// A pattern's source restriction as the lookup checks it: (src & mask) == addr.
struct RouteSource {
    uint32_t addr;
    uint32_t mask;
};

/// Hyperscan scratch space: one per worker and table (RouteTable::clone_scratch()).
/// Move-only; not shared between threads.
class RouteScratch {
public:
    RouteScratch() = default;
    ~RouteScratch();
    RouteScratch(RouteScratch&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    RouteScratch& operator=(RouteScratch&& o) noexcept;
    RouteScratch(const RouteScratch&) = delete;
    RouteScratch& operator=(const RouteScratch&) = delete;

private:
    friend class RouteTable;
    hs_scratch* s_ = nullptr;
};

/// What the ranking rules see of one pattern (explain, show routes).
struct RouteInfo {
    uint32_t id = 0;
    uint32_t target = 0;
    uint32_t priority = 0;
    uint32_t spec_index = 0;  // position in the compile() input
    RouteKind kind = RouteKind::digits;
    uint8_t cls = 0;          // 0 fixed-length digits, 1 variable-length digits, 2 regex
    uint8_t src_len = 0;
    uint32_t src_addr = 0;
    DigitPattern digits;      // kind == digits; regex holds the compiled expression for both kinds
};

/// One matching pattern of explain().
struct RouteCandidate {
    uint32_t rank = 0;
    bool source_ok = false;  // false: the pattern matched the number, but not the source
};

/// An immutable set of compiled patterns. Built on the control thread,
/// published to workers (RCU), read concurrently; each reader brings its own scratch.
class RouteTable {
public:
    ~RouteTable();
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;

    /// Compiles <specs>. A bad pattern refuses the whole set: the error reads
    /// "pattern #<index> (id <id>) '<text>': <reason>" and *bad_index, when
    /// given, is the index in <specs> (-1 when no single pattern is at fault).
    static Result<std::unique_ptr<RouteTable>> compile(std::span<const RouteSpec> specs, int* bad_index = nullptr);
    /// Checks one pattern alone (cheap for digits, a one-pattern compile for regexes).
    static Status check(const RouteSpec& spec);

    /// Scratch for one reader of this table (a larger one also fits a smaller table).
    Result<RouteScratch> clone_scratch() const;

    /// The winning pattern for <user> (a Request-URI user part, %-escapes as
    /// received: they are decoded here) from <src_ipv4> (host byte order).
    RouteStatus lookup(RouteScratch& scratch, std::string_view user, uint32_t src_ipv4, RouteHit& out) const noexcept;

    /// Every pattern that matches <user> (whatever its source), best first.
    /// Control thread: allocates. Status bad_input/scan_error come back as errors.
    Result<std::vector<RouteCandidate>> explain(std::string_view user, uint32_t src_ipv4) const;

    size_t size() const noexcept { return info_.size(); }
    /// The pattern at <rank> (0 = the first in the order).
    const RouteInfo& info(uint32_t rank) const noexcept { return info_[rank]; }
    /// One line saying why <rank> sorts where it does ("priority 100, fixed-length digits matching 100 numbers, ...").
    std::string describe(uint32_t rank) const;
    /// Bytes of the Hyperscan database.
    size_t database_bytes() const noexcept;

private:
    RouteTable() = default;
    hs_database* db_ = nullptr;
    std::vector<RouteSource> hot_;  // by rank: the source check on the lookup path
    std::vector<RouteInfo> info_; // by rank
};

/// "a.b.c.d/len" (or "a.b.c.d" = /32) into host-order address and length.
/// Refuses host bits set beyond the prefix.
Status parse_ipv4_prefix(std::string_view text, uint32_t& addr, uint8_t& len);
/// "a.b.c.d" into a host-order address; octets 0-255, leading zeros refused.
bool parse_source_ipv4(std::string_view text, uint32_t& addr) noexcept;

}  // namespace sipedge::dp
