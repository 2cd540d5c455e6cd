#include "dns/ares_channel.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

namespace sipedge::dns {
namespace {

int rr_code(RrType t) {
    switch (t) {
    case RrType::a: return ns_t_a;
    case RrType::aaaa: return ns_t_aaaa;
    case RrType::srv: return ns_t_srv;
    case RrType::naptr: return ns_t_naptr;
    }
    return ns_t_a;
}

uint16_t get16(const unsigned char* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t get32(const unsigned char* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// Walks the resource records of a reply (RFC 1035 §4.1) and calls
// <fn>(section, type, ttl, rdata, rdlen) for each answer (section 1) and
// authority (section 2) record. c-ares 1.18 parses SRV and NAPTR rdata but
// returns no TTL for them, and nothing of the authority section, so we walk
// the RRs ourselves, with ares_expand_name() only to skip owner names.
// Stops quietly at the first malformed record.
template <class Fn>
void walk_rrs(const unsigned char* abuf, int alen, Fn fn) {
    if (!abuf || alen < 12)
        return;
    const unsigned qd = get16(abuf + 4), an = get16(abuf + 6), ns = get16(abuf + 8);
    const unsigned char* p = abuf + 12;
    const unsigned char* end = abuf + alen;
    auto skip_name = [&]() {
        char* name = nullptr;
        long len = 0;
        if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS)
            return false;
        ares_free_string(name);
        p += len;
        return p <= end;
    };
    for (unsigned i = 0; i < qd; i++) {
        if (!skip_name() || end - p < 4)
            return;
        p += 4;
    }
    for (unsigned i = 0; i < an + ns; i++) {
        if (!skip_name() || end - p < 10)
            return;
        const int type = get16(p);
        const uint32_t ttl = get32(p + 4) & 0x7fffffffu;  // RFC 2181 §8: top bit set means 0
        const uint16_t rdlen = get16(p + 8);
        p += 10;
        if (end - p < rdlen)
            return;
        fn(i < an ? 1 : 2, type, ttl, p, rdlen);
        p += rdlen;
    }
}

// Smallest TTL over the answer records of <type>, or UINT32_MAX when none.
uint32_t min_answer_ttl(const unsigned char* abuf, int alen, int type) {
    uint32_t out = UINT32_MAX;
    walk_rrs(abuf, alen, [&](int section, int t, uint32_t ttl, const unsigned char*, uint16_t) {
        if (section == 1 && t == type)
            out = std::min(out, ttl);
    });
    return out;
}

// RFC 2308 §5: a negative answer is cached for the SOA record's TTL, capped by
// the SOA MINIMUM field (the last 4 bytes of its rdata). 0 when there is no SOA.
uint32_t negative_ttl(const unsigned char* abuf, int alen) {
    uint32_t out = 0;
    walk_rrs(abuf, alen, [&](int section, int t, uint32_t ttl, const unsigned char* rd, uint16_t len) {
        if (section == 2 && t == ns_t_soa && len >= 22)
            out = std::min(ttl, get32(rd + len - 4));
    });
    return out;
}

// "ESERVFAIL: DNS server returned general failure": the status name makes
// `show dns` greppable, the text explains it.
std::string describe_status(int s) {
    const char* name = nullptr;
    switch (s) {
    case ARES_ENODATA: name = "ENODATA"; break;
    case ARES_EFORMERR: name = "EFORMERR"; break;
    case ARES_ESERVFAIL: name = "ESERVFAIL"; break;
    case ARES_ENOTFOUND: name = "ENOTFOUND"; break;
    case ARES_ENOTIMP: name = "ENOTIMP"; break;
    case ARES_EREFUSED: name = "EREFUSED"; break;
    case ARES_EBADRESP: name = "EBADRESP"; break;
    case ARES_ECONNREFUSED: name = "ECONNREFUSED"; break;
    case ARES_ETIMEOUT: name = "ETIMEOUT"; break;
    case ARES_ECANCELLED: name = "ECANCELLED"; break;
    case ARES_EDESTRUCTION: name = "EDESTRUCTION"; break;
    default: name = "ARES"; break;
    }
    return std::string(name) + ": " + ares_strerror(s);
}

std::once_flag library_once;
int library_status = ARES_SUCCESS;

}  // namespace

Status validate(const ChannelConfig& cfg) {
    if (cfg.timeout_ms < 100 || cfg.timeout_ms > 30000)
        return Error{EINVAL, "dns timeout must be 100..30000 ms"};
    if (cfg.tries < 1 || cfg.tries > 10)
        return Error{EINVAL, "dns tries must be 1..10"};
    if (cfg.edns_bufsize != 0 && (cfg.edns_bufsize < 512 || cfg.edns_bufsize > 4096))
        return Error{EINVAL, "EDNS buffer size must be 0 or 512..4096"};
    for (const ServerAddr& s : cfg.servers)
        if ((s.addr.family != 4 && s.addr.family != 6) || s.port == 0)
            return Error{EINVAL, "dns server needs an IPv4/IPv6 address and a port"};
    return Ok{};
}

AnswerStatus classify(int s) {
    switch (s) {
    case ARES_SUCCESS: return AnswerStatus::ok;
    case ARES_ENOTFOUND: return AnswerStatus::nxdomain;  // rcode NXDOMAIN
    case ARES_ENODATA: return AnswerStatus::nodata;      // NOERROR, no answer records
    // The server answered, with an error: seed P "malformed query, request
    // type not implemented, internal DNS server error" → no restore.
    case ARES_ESERVFAIL:
    case ARES_EFORMERR:
    case ARES_ENOTIMP:
    case ARES_EREFUSED:
    case ARES_EBADRESP:
    case ARES_EBADNAME:
    case ARES_EBADQUERY:
        return AnswerStatus::error_answer;
    // No answer: timeout, unreachable (ICMP → ECONNREFUSED), no server,
    // cancelled: seed P "fails to respond in any way ... or unreachable".
    default:
        return AnswerStatus::no_answer;
    }
}

Answer decode_answer(int ares_status, RrType type, const unsigned char* abuf, int alen) {
    Answer out;
    out.code = ares_status;
    out.status = classify(ares_status);
    if (out.status != AnswerStatus::ok) {
        out.detail = describe_status(ares_status);
        if (out.status == AnswerStatus::nxdomain || out.status == AnswerStatus::nodata)
            out.negative_ttl_s = negative_ttl(abuf, alen);
        return out;
    }
    int rc = ARES_SUCCESS;
    switch (type) {
    case RrType::a:
    case RrType::aaaa: {
        // ares_parse_a_reply follows CNAMEs within the answer.
        constexpr int max_addrs = 256;
        int n = max_addrs;
        if (type == RrType::a) {
            ares_addrttl v[max_addrs];
            rc = ares_parse_a_reply(abuf, alen, nullptr, v, &n);
            for (int i = 0; rc == ARES_SUCCESS && i < n; i++) {
                AddrRr r;
                r.addr.family = 4;
                std::memcpy(r.addr.bytes.data(), &v[i].ipaddr, 4);
                r.ttl_s = uint32_t(std::max(v[i].ttl, 0));
                out.addrs.push_back(r);
            }
        } else {
            ares_addr6ttl v[max_addrs];
            rc = ares_parse_aaaa_reply(abuf, alen, nullptr, v, &n);
            for (int i = 0; rc == ARES_SUCCESS && i < n; i++) {
                AddrRr r;
                r.addr.family = 6;
                std::memcpy(r.addr.bytes.data(), &v[i].ip6addr, 16);
                r.ttl_s = uint32_t(std::max(v[i].ttl, 0));
                out.addrs.push_back(r);
            }
        }
        break;
    }
    case RrType::srv: {
        ares_srv_reply* list = nullptr;
        rc = ares_parse_srv_reply(abuf, alen, &list);
        const uint32_t ttl = min_answer_ttl(abuf, alen, ns_t_srv);
        for (ares_srv_reply* r = list; rc == ARES_SUCCESS && r; r = r->next) {
            SrvRr s;
            s.priority = r->priority;
            s.weight = r->weight;
            s.port = r->port;
            s.target = normalize_name(r->host ? r->host : "");
            s.ttl_s = ttl == UINT32_MAX ? 0 : ttl;
            out.srv.push_back(std::move(s));
        }
        if (list)
            ares_free_data(list);
        break;
    }
    case RrType::naptr: {
        ares_naptr_reply* list = nullptr;
        rc = ares_parse_naptr_reply(abuf, alen, &list);
        const uint32_t ttl = min_answer_ttl(abuf, alen, ns_t_naptr);
        for (ares_naptr_reply* r = list; rc == ARES_SUCCESS && r; r = r->next) {
            NaptrRr n;
            n.order = r->order;
            n.preference = r->preference;
            n.flags = reinterpret_cast<const char*>(r->flags);
            n.service = reinterpret_cast<const char*>(r->service);
            n.regexp = reinterpret_cast<const char*>(r->regexp);
            n.replacement = normalize_name(r->replacement ? r->replacement : "");
            n.ttl_s = ttl == UINT32_MAX ? 0 : ttl;
            out.naptr.push_back(std::move(n));
        }
        if (list)
            ares_free_data(list);
        break;
    }
    }
    if (rc != ARES_SUCCESS) {
        Answer bad;
        bad.code = rc;
        bad.status = rc == ARES_ENODATA ? AnswerStatus::nodata : AnswerStatus::error_answer;
        bad.detail = describe_status(rc);
        if (bad.status == AnswerStatus::nodata)
            bad.negative_ttl_s = negative_ttl(abuf, alen);
        return bad;
    }
    if (out.size() == 0) {
        out.status = AnswerStatus::nodata;  // e.g. only a CNAME, or an empty truncated answer
        out.detail = "no records of this type";
        out.negative_ttl_s = negative_ttl(abuf, alen);
    }
    return out;
}

Result<std::unique_ptr<AresChannel>> AresChannel::create(const ChannelConfig& cfg, SocketCb on_socket) {
    if (Status st = validate(cfg); !st)
        return st.error();
    std::call_once(library_once, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (library_status != ARES_SUCCESS)
        return Error{EIO, std::string("ares_library_init: ") + ares_strerror(library_status)};

    std::unique_ptr<AresChannel> ch(new AresChannel());
    ch->on_socket_ = std::move(on_socket);

    ares_options opts{};
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    // ARES_FLAG_NOCHECKRESP: without it c-ares 1.18 treats a SERVFAIL, REFUSED
    // or NOTIMP reply as "try the next server" and, when none is left, ends the
    // query with the initial ARES_ECONNREFUSED: an error answer would look like
    // an unreachable server and be restored, which seed P forbids. With it the
    // reply's rcode reaches us (ARES_ESERVFAIL, ...). The price: an error reply
    // from the first server is not retried on the others.
    opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
    if (cfg.ignore_truncation)
        opts.flags |= ARES_FLAG_IGNTC;
    if (cfg.edns_bufsize) {
        opts.flags |= ARES_FLAG_EDNS;
        opts.ednspsz = cfg.edns_bufsize;
        mask |= ARES_OPT_EDNSPSZ;
    }
    opts.timeout = int(cfg.timeout_ms);
    opts.tries = int(cfg.tries);
    opts.sock_state_cb = &AresChannel::on_sock_state;
    opts.sock_state_cb_data = ch.get();
    if (int rc = ares_init_options(&ch->channel_, &opts, mask); rc != ARES_SUCCESS)
        return Error{EIO, std::string("ares_init_options: ") + ares_strerror(rc)};

    if (!cfg.servers.empty()) {
        std::vector<ares_addr_port_node> nodes(cfg.servers.size());
        for (size_t i = 0; i < cfg.servers.size(); i++) {
            ares_addr_port_node& n = nodes[i];
            n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
            const ServerAddr& s = cfg.servers[i];
            n.family = s.addr.family == 4 ? AF_INET : AF_INET6;
            std::memcpy(&n.addr, s.addr.bytes.data(), s.addr.family == 4 ? 4 : 16);
            n.udp_port = n.tcp_port = s.port;
        }
        if (int rc = ares_set_servers_ports(ch->channel_, nodes.data()); rc != ARES_SUCCESS)
            return Error{EINVAL, std::string("ares_set_servers_ports: ") + ares_strerror(rc)};
    }
    return ch;
}

AresChannel::~AresChannel() {
    if (channel_)
        ares_destroy(channel_);  // pending callbacks run with ARES_EDESTRUCTION
}

void AresChannel::on_sock_state(void* data, int fd, int readable, int writable) {
    auto* self = static_cast<AresChannel*>(data);
    if (readable || writable)
        self->sockets_[fd] = WatchedFd{fd, readable != 0, writable != 0};
    else
        self->sockets_.erase(fd);
    if (self->on_socket_)
        self->on_socket_(fd, readable != 0, writable != 0);
}

namespace {
struct PendingQuery {
    AresChannel* channel;
    RrType type;
    AresChannel::AnswerCb cb;
    size_t* in_flight;
};
}  // namespace

void AresChannel::on_reply(void* arg, int status, int, unsigned char* abuf, int alen) {
    std::unique_ptr<PendingQuery> pq(static_cast<PendingQuery*>(arg));
    (*pq->in_flight)--;
    Answer a = decode_answer(status, pq->type, abuf, alen);
    pq->cb(std::move(a));
}

void AresChannel::query(const Question& q, AnswerCb cb) {
    auto* pq = new PendingQuery{this, q.type, std::move(cb), &in_flight_};
    in_flight_++;
    // ns_c_in: Internet class. The callback may run before ares_query returns
    // (for instance when no server is configured).
    ares_query(channel_, q.name.c_str(), ns_c_in, rr_code(q.type), &AresChannel::on_reply, pq);
}

void AresChannel::process_fd(int fd, bool readable, bool writable) {
    ares_process_fd(channel_, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
}

void AresChannel::process_timeouts() {
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

std::optional<uint32_t> AresChannel::timeout_ms() const {
    if (in_flight_ == 0)
        return std::nullopt;
    timeval tv{};
    timeval* t = ares_timeout(channel_, nullptr, &tv);
    if (!t)
        return std::nullopt;
    // Round up so the loop does not wake a hair early and spin.
    return uint32_t(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
}

std::vector<WatchedFd> AresChannel::sockets() const {
    std::vector<WatchedFd> out;
    out.reserve(sockets_.size());
    for (const auto& [fd, w] : sockets_)
        out.push_back(w);
    return out;
}

}  // namespace sipedge::dns
