#pragma once
// Result type of every control-side API — dns/, control/, stream/, the route
// table compiler and failover's control-thread parts (STYLE.md §4: the control
// plane returns Result<T>; sipedge code throws nothing). The toolchain is
// C++20, so this is a small in-tree stand-in for std::expected<T, Error>. The
// error code is errno-like so that a socket reply carries it as its "status".
// It lives in base/ (issue 13), below every module, so that no module depends
// on another one only for its error type.

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace sipedge {

/// Why a command or a config line was refused.
struct Error {
    int code = EINVAL;  // errno value: EINVAL, ENOENT, EEXIST, ENOMEM, ...
    std::string message;
};

inline Error err(int code, std::string msg) { return Error{code, std::move(msg)}; }

/// A value or an Error; value() and error() must only be read on the matching side.
template <class T>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

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

}  // namespace sipedge
