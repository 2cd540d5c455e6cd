#pragma once
// Internal variants of the headers.h value parsers for parse()'s fast path.
// Each takes <limit>: the buffer is readable up to base + limit, and
// limit >= the span's end. The span still bounds what is parsed; the limit
// only lets a 16-byte block run past the span's end (results are clamped to
// it), so short tokens, hosts and parameters take one vector step instead of
// a byte loop. The public functions call these with limit = span end.

#include <cstdint>

#include "sipparse/charclass.h"
#include "sipparse/lex.h"
#include "sipparse/span.h"
#include "sipparse/types.h"

namespace sipedge::sip {

bool parse_via_lim(const char* base, Span s, uint32_t limit, Via& out) noexcept;
bool parse_name_addr_lim(const char* base, Span s, uint32_t limit, NameAddr& out,
                         bool allow_star) noexcept;
uint32_t scan_hostport_lim(const char* p, uint32_t i, uint32_t end, uint32_t limit,
                           HostPort& out) noexcept;
bool valid_call_id_lim(const char* base, Span s, uint32_t limit) noexcept;

/// ParamList (headers.h) with a read limit: *( SEMI generic-param ) after
/// the first ';' (RFC 3261 §25.1). ParamList::next is this.
struct ParamScan {
    const char* b;
    uint32_t pos, end, limit;
    bool bad = false;

    bool next(Span& name, Span& value) noexcept {
        using lex::skip_lws;
        if (bad) return false;
        uint32_t i = skip_lws(b, pos, end);
        if (i >= end) return false;
        const uint32_t n0 = i;
        i = scan_class_lim<cc_token>(b, i, end, limit);
        if (i == n0) return fail();
        name = make_span(n0, i);
        value = Span{};
        i = skip_lws(b, i, end);
        if (i < end && b[i] == '=') {
            i = skip_lws(b, i + 1, end);
            if (i == end) return fail();
            if (b[i] == '"') {
                const uint32_t q = lex::skip_quoted(b, i, end);
                if (q == 0) return fail();
                value = make_span(i + 1, q - 1);
                i = q;
            } else if (b[i] == '[') {
                const uint32_t v0 = i;
                while (i < end && b[i] != ']') i++;
                if (i == end) return fail();
                value = make_span(v0, ++i);
            } else {
                // gen-value = token / host; IPv6 without brackets is tolerated
                // (RFC 5118 §4.5: receivers accept both forms of received=).
                const uint32_t v0 = i;
                i = scan_class_lim<cc_gen_value>(b, i, end, limit);
                if (i == v0) return fail();
                value = make_span(v0, i);
            }
            i = skip_lws(b, i, end);
        }
        if (i < end) {
            if (b[i] != ';') return fail();
            i++;
            if (skip_lws(b, i, end) == end) return fail();  // trailing ';'
        }
        pos = i;
        return true;
    }

  private:
    bool fail() noexcept {
        bad = true;
        return false;
    }
};

}  // namespace sipedge::sip
