#pragma once
// Result type for the dns module's control-side API (STYLE.md §4: the
// control plane returns Result<T>; sipedge code throws nothing). The
// toolchain is C++20, so this is the small in-tree stand-in for
// std::expected<T, Error>.

#include <string>
#include <utility>
#include <variant>

namespace sipedge::dns {

/// Why a call was refused: an errno-style code and a message for the socket reply.
struct Error {
    int code = 0;  // EINVAL, ENOMEM, ... (errno values), so a socket reply can carry it as is
    std::string message;
};

/// A value or an Error. value() and error() must only be read on the matching side.
template <class T>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error err) : v_(std::in_place_index<1>, std::move(err)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    T& value() & { return *std::get_if<0>(&v_); }
    const T& value() const& { return *std::get_if<0>(&v_); }
    T&& value() && { return std::move(*std::get_if<0>(&v_)); }
    const Error& error() const { return *std::get_if<1>(&v_); }

private:
    std::variant<T, Error> v_;
};

/// Result of a call that returns nothing on success.
struct Ok {};
using Status = Result<Ok>;

}  // namespace sipedge::dns
