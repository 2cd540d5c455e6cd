#include "dns/records.h"

#include <algorithm>

namespace sipedge::dns {

const char* to_string(RrType t) {
    switch (t) {
    case RrType::a: return "A";
    case RrType::aaaa: return "AAAA";
    case RrType::srv: return "SRV";
    case RrType::naptr: return "NAPTR";
    }
    return "?";
}

uint32_t Answer::min_ttl_s() const {
    uint32_t m = UINT32_MAX;
    for (const NaptrRr& r : naptr) m = std::min(m, r.ttl_s);
    for (const SrvRr& r : srv) m = std::min(m, r.ttl_s);
    for (const AddrRr& r : addrs) m = std::min(m, r.ttl_s);
    return m == UINT32_MAX ? 0 : m;
}

Answer Answer::failure(AnswerStatus s, std::string detail, int code) {
    Answer a;
    a.status = s;
    a.code = code;
    a.detail = std::move(detail);
    return a;
}

std::string normalize_name(std::string_view name) {
    if (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    std::string out(name);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

}  // namespace sipedge::dns
