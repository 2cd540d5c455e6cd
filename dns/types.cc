#include "dns/types.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include <arpa/inet.h>

namespace sipedge::dns {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() > 45)
        return std::nullopt;
    char buf[46];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddr a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = 4;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.family = 6;
        return a;
    }
    return std::nullopt;
}

IpAddr IpAddr::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddr r;
    r.family = 4;
    r.bytes[0] = a, r.bytes[1] = b, r.bytes[2] = c, r.bytes[3] = d;
    return r;
}

std::string IpAddr::to_string() const {
    char buf[INET6_ADDRSTRLEN] = "";
    if (family == 4)
        inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
    else if (family == 6)
        inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
    return buf;
}

const char* to_string(Transport t) {
    switch (t) {
    case Transport::udp: return "udp";
    case Transport::tcp: return "tcp";
    case Transport::tls: return "tls";
    }
    return "?";
}

const char* to_string(Source s) {
    switch (s) {
    case Source::none: return "none";
    case Source::network: return "network";
    case Source::restored: return "restored";
    case Source::static_: return "static";
    case Source::literal: return "literal";
    }
    return "?";
}

const char* to_string(AnswerStatus s) {
    switch (s) {
    case AnswerStatus::ok: return "ok";
    case AnswerStatus::nxdomain: return "nxdomain";
    case AnswerStatus::nodata: return "nodata";
    case AnswerStatus::error_answer: return "error_answer";
    case AnswerStatus::no_answer: return "no_answer";
    }
    return "?";
}

std::vector<const Target*> ServerList::flat() const {
    std::vector<const Target*> out;
    for (const ServiceRecord& r : records)
        for (const Target& t : r.targets)
            out.push_back(&t);
    return out;
}

bool ServerList::same_servers(const ServerList& other) const {
    using Key = std::tuple<size_t, uint8_t, std::array<uint8_t, 16>, uint8_t, uint16_t, uint16_t,
                           uint16_t>;
    auto keys = [](const ServerList& l) {
        std::vector<Key> k;
        for (size_t i = 0; i < l.records.size(); i++)
            for (const Target& t : l.records[i].targets)
                k.emplace_back(i, uint8_t(t.transport), t.addr.bytes, t.addr.family, t.port,
                               t.priority, t.weight);
        std::sort(k.begin(), k.end());
        return k;
    };
    return status == other.status && keys(*this) == keys(other);
}

}  // namespace sipedge::dns
