#include "control/number.h"

namespace sipedge::ctl {

NumStatus parse_number(std::string_view w, uint64_t lo, uint64_t hi, uint64_t& out) noexcept {
    // base/decimal.h is this grammar (leading zeros refused by default); only <lo> is added here.
    uint64_t v = 0;
    switch (decimal_status(w, hi, v)) {
    case DecimalStatus::ok: break;
    case DecimalStatus::invalid: return NumStatus::not_a_number;
    case DecimalStatus::out_of_range: return NumStatus::out_of_range;
    }
    if (v < lo) return NumStatus::out_of_range;
    out = v;
    return NumStatus::ok;
}

Result<uint64_t> number_arg(std::string_view what, std::string_view w, uint64_t lo, uint64_t hi) {
    uint64_t v = 0;
    switch (parse_number(w, lo, hi, v)) {
    case NumStatus::ok: return v;
    case NumStatus::not_a_number:
        return err(EINVAL, std::string(what) + ": '" + std::string(w) +
                               "' is not a number (decimal digits only: no sign, blank or leading zero)");
    case NumStatus::out_of_range: break;
    }
    return err(EINVAL, std::string(what) + ": " + std::string(w) + " is out of range " + std::to_string(lo) + "-" +
                           std::to_string(hi));
}

bool parse_ipv4(std::string_view s, uint32_t& host_order) noexcept {
    uint32_t a = 0;
    for (int part = 0; part < 4; part++) {
        const size_t dot = s.find('.');
        if ((dot == std::string_view::npos) != (part == 3)) return false;  // exactly three dots
        uint64_t v = 0;
        if (parse_number(s.substr(0, dot), 0, 255, v) != NumStatus::ok) return false;
        a = a << 8 | uint32_t(v);
        if (part < 3) s.remove_prefix(dot + 1);
    }
    host_order = a;
    return true;
}

bool looks_like_ipv4(std::string_view host) noexcept {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // rooted name "a.b."
    const size_t dot = host.rfind('.');
    const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
    if (last.empty()) return false;
    for (const char c : last)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace sipedge::ctl
