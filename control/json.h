#pragma once
// A small JSON value for the control socket: replies are built as Json and
// written with dump(); sipedgectl parses them back with parse(). Objects keep
// insertion order so replies read in a stable order. Control plane only.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sipedge::ctl {

class Json {
public:
    enum class Type : uint8_t { null, boolean, number, string, array, object };

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : type_(Type::boolean), b_(b) {}
    Json(int v) : type_(Type::number), n_(v) {}
    Json(unsigned v) : type_(Type::number), n_(v) {}
    Json(int64_t v) : type_(Type::number), n_(v) {}
    Json(uint64_t v) : type_(Type::number), n_(int64_t(v)) {}
    Json(const char* s) : type_(Type::string), s_(s) {}
    Json(std::string s) : type_(Type::string), s_(std::move(s)) {}
    Json(std::string_view s) : type_(Type::string), s_(s) {}

    static Json array() { Json j; j.type_ = Type::array; return j; }
    static Json object() { Json j; j.type_ = Type::object; return j; }

    Type type() const noexcept { return type_; }
    bool is_null() const noexcept { return type_ == Type::null; }
    bool is_object() const noexcept { return type_ == Type::object; }
    bool is_array() const noexcept { return type_ == Type::array; }
    bool is_string() const noexcept { return type_ == Type::string; }
    bool is_number() const noexcept { return type_ == Type::number; }
    bool is_bool() const noexcept { return type_ == Type::boolean; }

    bool as_bool() const noexcept { return b_; }
    int64_t as_int() const noexcept { return n_; }
    const std::string& as_string() const noexcept { return s_; }

    /// Array append (turns null into an array).
    Json& push(Json v);
    /// Object member set/replace (turns null into an object).
    Json& set(std::string key, Json v);
    /// Object member or nullptr.
    const Json* get(std::string_view key) const noexcept;
    const std::vector<Json>& items() const noexcept { return items_; }
    const std::vector<std::pair<std::string, Json>>& members() const noexcept { return members_; }
    size_t size() const noexcept { return type_ == Type::object ? members_.size() : items_.size(); }

    /// One line, no spaces, always valid UTF-8: strings escaped per RFC 8259
    /// (", \\, control characters and DEL as \uXXXX or \n \r \t), and each
    /// ill-formed UTF-8 subpart of a string written as one \ufffd (json_quote).
    std::string dump() const;
    void dump_to(std::string& out) const;

    /// Parses one JSON text (integers only for numbers; fractions and exponents
    /// are refused, the socket never sends them). Strict RFC 8259 otherwise:
    /// rejects trailing garbage, raw control characters and ill-formed UTF-8
    /// in strings, unpaired surrogate escapes and numbers with leading zeros.
    static Result<Json> parse(std::string_view text);

    bool operator==(const Json& o) const = default;

private:
    Type type_ = Type::null;
    bool b_ = false;
    int64_t n_ = 0;
    std::string s_;
    std::vector<Json> items_;
    std::vector<std::pair<std::string, Json>> members_;
};

/// Appends <s> as a JSON string literal to <out>. Well-formed UTF-8 is kept
/// as is; each maximal ill-formed subpart (Unicode §3.9, Table 3-7: stray
/// continuation bytes, overlongs, surrogates, past U+10FFFF, truncated
/// sequences) becomes one U+FFFD written as \ufffd, so the literal is valid
/// UTF-8 whatever bytes <s> holds.
void json_quote(std::string& out, std::string_view s);

/// Length (1-4) of the well-formed UTF-8 sequence at <s>[<i>], or 0 with
/// <bad> = the length of its maximal ill-formed subpart (1-3). <i> < size.
size_t utf8_sequence(std::string_view s, size_t i, size_t& bad) noexcept;
/// Whether <s> is all well-formed UTF-8; <at> (optional) gets the offset of
/// the first ill-formed byte.
bool utf8_valid(std::string_view s, size_t* at = nullptr) noexcept;

}  // namespace sipedge::ctl
