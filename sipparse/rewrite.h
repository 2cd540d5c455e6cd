#pragma once
// Message rewriting for proxying (RFC 3261 §16.6). The Rewriter records a
// handful of edits against a parsed message and then writes the new message
// into a caller-provided buffer in one pass: unchanged bytes are copied as
// they are, only edited ranges change. No allocation; edits are applied in
// buffer order whatever order they were recorded in.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sipparse/message.h"

namespace sipedge::sip {

class Rewriter {
  public:
    /// Most edits one rewrite can hold; more make finish() fail.
    static constexpr size_t max_edits = 16;

    /// <in> is the buffer <msg> was parsed from. Both must outlive finish().
    Rewriter(const char* in, const Message& msg) noexcept : in_(in), msg_(msg) {}

    /// Inserts "Via: <value>\r\n" above the first Via header.
    bool prepend_via(std::string_view value) noexcept;
    /// Removes the first via-parm: the whole first Via header line when it has
    /// one value, otherwise the value and its comma.
    bool remove_top_via() noexcept;
    /// Replaces the Request-URI (requests only).
    bool set_request_uri(std::string_view uri) noexcept;
    /// Writes Max-Forwards = current - 1 (or inserts "Max-Forwards: <dflt>").
    /// Fails when the current value is 0 (the caller answers 483).
    bool decrement_max_forwards(uint32_t dflt = 70) noexcept;
    /// Inserts "Record-Route: <uri>\r\n" above the first Record-Route header
    /// (or above the first Via when there is none). <uri> includes the < >.
    bool add_record_route(std::string_view name_addr) noexcept;
    /// Removes the first Route value (RFC 3261 §16.4 when it names us).
    bool remove_top_route() noexcept;
    /// Removes the first <k> Route values, across Route headers (a proxy with
    /// two interfaces finds two of its own on top: RFC 5658 double
    /// Record-Route). False when there are fewer than <k>.
    bool remove_top_routes(unsigned k) noexcept;
    /// Rewrites Content-Length to the body length actually sent (inserting
    /// the header when absent). Always applied by finish() when the body was
    /// truncated or the header is missing; call to force it.
    bool fix_content_length() noexcept;
    /// Inserts a whole header line "<name>: <value>\r\n" before the blank line.
    bool add_header(std::string_view name, std::string_view value) noexcept;

    /// Removes every header line with <id> (adjacent lines as one edit).
    /// False when there is none.
    bool remove_all(HeaderId id) noexcept;
    /// Inserts <lines> (whole header lines, each ending in CRLF) where the
    /// first header with <id> starts (or before the blank line when there is
    /// none). Record it before a removal at the same place.
    bool insert_before_first(HeaderId id, std::string_view lines) noexcept;
    /// Inserts <lines> after the last header line with <id>. False when
    /// there is none.
    bool insert_after_last(HeaderId id, std::string_view lines) noexcept;
    /// Replaces input bytes [s.off, s.end()) with <with>.
    bool replace(Span s, std::string_view with) noexcept;
    /// Removes input bytes [off, end) of the header section (edits the
    /// caller computed: a value cut out of a list).
    bool cut(uint32_t off, uint32_t end) noexcept;

    /// Writes the new message into out[0, cap). Returns the length written,
    /// or 0 when it does not fit or an edit failed earlier.
    size_t finish(char* out, size_t cap) noexcept;

    /// After a finish() that succeeded: where in its output the byte <p>
    /// landed, for a <p> inside the value given to prepend_via(),
    /// add_record_route() or another edit's second part (the caller's own
    /// text: our branch, our Record-Route); npos for any other pointer. The
    /// proxy keeps these offsets with the retained request instead of
    /// searching the output for them.
    static constexpr size_t npos = ~size_t(0);
    size_t placed(const char* p) const noexcept;

  private:
    struct Edit {
        uint32_t off;             // position in the input
        uint32_t del;             // input bytes removed from off
        std::string_view part[4]; // written in order at off
        uint32_t num;             // decimal number written after part[1] when has_num
        bool has_num;
        uint32_t out_b = 0;       // where part[1] began in finish()'s output
    };
    bool add(uint32_t off, uint32_t del, std::string_view a, std::string_view b = {},
             std::string_view c = {}, std::string_view d = {}) noexcept;
    bool add_num(uint32_t off, uint32_t del, std::string_view a, uint32_t num,
                 std::string_view c) noexcept;
    uint32_t line_end(const Header& h) const noexcept;
    uint32_t headers_end() const noexcept;
    bool remove_first_value(HeaderId id) noexcept;

    const char* in_;
    const Message& msg_;
    Edit edits_[max_edits];
    uint16_t n_ = 0;
    bool failed_ = false;
    bool cl_fixed_ = false;
};

}  // namespace sipedge::sip
