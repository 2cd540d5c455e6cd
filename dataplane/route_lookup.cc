// The per-packet side of the route table (issue 13: apart from the compiler
// in route_table.cc): %-decoding the user part, the Hyperscan scan with the
// worker's scratch and the best-rank choice (lookup, on the worker), and the
// same scan listing every candidate (explain, control thread).

#include "dataplane/route_table.h"

#include <algorithm>

#include <hs.h>

namespace sipedge::dp {

namespace {

int hexval(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %-decodes <in> into <buf>; false on a bad escape, a control character or overflow.
bool decode_user(std::string_view in, char* buf, size_t& n) noexcept {
    n = 0;
    for (size_t i = 0; i < in.size(); i++) {
        unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == '%') {
            if (i + 2 >= in.size()) return false;
            const int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            c = static_cast<unsigned char>(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || n == max_route_user_len) return false;
        buf[n++] = static_cast<char>(c);
    }
    return true;
}

struct ScanCtx {
    const RouteSource* hot;
    uint32_t src;
    uint32_t best;
};

}  // namespace

// ---- scratch ------------------------------------------------------------------------

RouteScratch::~RouteScratch() {
    if (s_) hs_free_scratch(s_);
}

RouteScratch& RouteScratch::operator=(RouteScratch&& o) noexcept {
    if (this != &o) {
        if (s_) hs_free_scratch(s_);
        s_ = o.s_;
        o.s_ = nullptr;
    }
    return *this;
}

Result<RouteScratch> RouteTable::clone_scratch() const {
    RouteScratch s;
    if (!db_) return s;
    if (hs_alloc_scratch(db_, &s.s_) != HS_SUCCESS) return err(ENOMEM, "route table: cannot allocate scratch");
    return s;
}

namespace {

int on_best(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
    ScanCtx& c = *static_cast<ScanCtx*>(ctx);
    const RouteSource& h = c.hot[id];
    if ((c.src & h.mask) == h.addr && id < c.best) c.best = id;
    return 0;
}

int on_all(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
    static_cast<std::vector<uint32_t>*>(ctx)->push_back(id);
    return 0;
}

}  // namespace

RouteStatus RouteTable::lookup(RouteScratch& scratch, std::string_view user, uint32_t src, RouteHit& out) const noexcept {
    static_assert(sizeof(RouteSource) == 8);
    char buf[max_route_user_len];
    size_t n = 0;
    if (!decode_user(user, buf, n)) return RouteStatus::bad_input;
    if (!db_ || n == 0) return RouteStatus::no_match;
    ScanCtx ctx{hot_.data(), src, UINT32_MAX};
    if (hs_scan(db_, buf, unsigned(n), 0, scratch.s_, on_best, &ctx) != HS_SUCCESS) return RouteStatus::scan_error;
    if (ctx.best == UINT32_MAX) return RouteStatus::no_match;
    out.id = info_[ctx.best].id;
    out.target = info_[ctx.best].target;
    out.rank = ctx.best;
    return RouteStatus::matched;
}

Result<std::vector<RouteCandidate>> RouteTable::explain(std::string_view user, uint32_t src) const {
    char buf[max_route_user_len];
    size_t n = 0;
    if (!decode_user(user, buf, n))
        return err(EINVAL, "user part: longer than " + std::to_string(max_route_user_len) +
                               " bytes, a bad %-escape or a control character");
    std::vector<RouteCandidate> out;
    if (!db_ || n == 0) return out;
    auto s = clone_scratch();
    if (!s) return s.error();
    std::vector<uint32_t> ranks;
    if (hs_scan(db_, buf, unsigned(n), 0, s.value().s_, on_all, &ranks) != HS_SUCCESS)
        return err(EIO, "route table: scan failed");
    std::sort(ranks.begin(), ranks.end());
    for (const uint32_t r : ranks) out.push_back(RouteCandidate{r, (src & hot_[r].mask) == hot_[r].addr});
    return out;
}

}  // namespace sipedge::dp
