#include "dns/resolver.h"

#include <algorithm>
#include <cerrno>
#include <utility>

namespace sipedge::dns {

Status validate(const ResolverConfig& cfg) {
    if (Status s = validate(cfg.channel); !s)
        return s;
    return validate(cfg.cache);
}

Resolver::Resolver(ResolverConfig cfg, Rng rng)
    : cfg_(std::move(cfg)), rng_(std::move(rng)), cache_(cfg_.cache) {}

Result<std::unique_ptr<Resolver>> Resolver::create(ResolverConfig cfg, Rng rng) {
    if (Status s = validate(cfg); !s)
        return s.error();
    if (!rng)
        return Error{EINVAL, "no random source"};
    std::unique_ptr<Resolver> r(new Resolver(std::move(cfg), std::move(rng)));
    Resolver* self = r.get();
    auto ch = AresChannel::create(r->cfg_.channel, [self](int fd, bool rd, bool wr) {
        if (self->socket_watch_)
            self->socket_watch_(fd, rd, wr);
    });
    if (!ch)
        return ch.error();
    r->channel_ = std::move(ch).value();
    return r;
}

Resolver::~Resolver() {
    closing_ = true;  // ares_destroy runs the pending callbacks: they only queue, nothing delivers
    channel_.reset();
}

Result<LocateId> Resolver::start(LocateRequest req, OnUpdate cb, Millis now) {
    std::string why;
    if (!valid_request(req, &why))
        return Error{EINVAL, why};
    now_ = now;
    const LocateId id = next_id_++;
    Locate& l = locates_[id];
    l.req = std::move(req);
    l.cb = std::move(cb);
    begin_job(id, l);
    drain();
    deliver();
    return id;
}

void Resolver::stop(LocateId id) {
    // In-flight questions keep their waiter lists; answers for a gone id are
    // cached and otherwise dropped.
    locates_.erase(id);
}

void Resolver::begin_job(LocateId id, Locate& l) {
    l.job = std::make_unique<Locator>(l.req, rng_);
    l.job_refresh_at = never_ms;
    pump(id, l);
}

// Hands the job its questions: from the cache when fresh (or static under
// networkOverride), else from the network, sharing one query per question.
void Resolver::pump(LocateId id, Locate& l) {
    for (;;) {
        std::vector<Question> qs = l.job->take_questions();
        if (qs.empty())
            break;
        for (Question& q : qs) {
            if (const CacheEntry* e = cache_.lookup(q, now_)) {
                l.job_refresh_at = std::min(l.job_refresh_at, e->refresh_at);
                l.job->on_answer(q, e->answer, e->source, e->expires_at);
                continue;
            }
            std::vector<LocateId>& waiters = inflight_[q];
            waiters.push_back(id);
            if (waiters.size() == 1)
                channel_->query(q, [this, q](Answer a) { arrived_.push_back(Arrived{q, std::move(a)}); });
        }
    }
    if (l.job->done())
        finish(id, l);
}

void Resolver::finish(LocateId id, Locate& l) {
    ServerList next = l.job->result();
    l.job.reset();
    l.changed = l.updates == 0 || !next.same_servers(l.current);
    next.generation = l.current.generation + 1;
    l.current = std::move(next);
    l.updates++;
    // Floor of 100 ms: a refresh never spins even if an entry were due already.
    l.refresh_at = l.job_refresh_at == never_ms ? never_ms : std::max(l.job_refresh_at, now_ + 100);
    completed_.push_back(id);
}

// Feeds queued network answers through the cache to every job waiting on
// them. Jobs may ask new questions, whose answers (even synchronous ones)
// join the same queue.
void Resolver::drain() {
    while (!arrived_.empty() && !closing_) {
        Arrived ar = std::move(arrived_.front());
        arrived_.erase(arrived_.begin());
        std::vector<LocateId> waiters;
        if (auto it = inflight_.find(ar.q); it != inflight_.end()) {
            waiters = std::move(it->second);
            inflight_.erase(it);
        }
        const CacheEntry& e = cache_.on_network_answer(ar.q, std::move(ar.a), now_);
        for (LocateId id : waiters) {
            auto it = locates_.find(id);
            if (it == locates_.end() || !it->second.job)
                continue;
            Locate& l = it->second;
            l.job_refresh_at = std::min(l.job_refresh_at, e.refresh_at);
            l.job->on_answer(ar.q, e.answer, e.source, e.expires_at);
            pump(id, l);
        }
    }
}

void Resolver::deliver() {
    std::vector<LocateId> done;
    done.swap(completed_);
    for (LocateId id : done) {
        auto it = locates_.find(id);
        if (it == locates_.end() || !it->second.cb)
            continue;
        // Copy: the callback may stop() this id or start others.
        OnUpdate cb = it->second.cb;
        const ServerList list = it->second.current;
        cb(id, list, it->second.changed);
    }
}

void Resolver::on_fd(int fd, bool readable, bool writable, Millis now) {
    now_ = now;
    channel_->process_fd(fd, readable, writable);
    drain();
    deliver();
}

void Resolver::on_timer(Millis now) {
    now_ = now;
    channel_->process_timeouts();
    drain();
    for (auto& [id, l] : locates_)
        if (!l.job && l.refresh_at <= now)
            begin_job(id, l);
    drain();
    deliver();
}

Millis Resolver::next_deadline(Millis now) const {
    Millis next = never_ms;
    if (std::optional<uint32_t> t = channel_->timeout_ms())
        next = now + *t;
    for (const auto& [id, l] : locates_)
        if (!l.job)
            next = std::min(next, l.refresh_at);
    return next;
}

const ServerList* Resolver::current(LocateId id) const {
    auto it = locates_.find(id);
    return it == locates_.end() ? nullptr : &it->second.current;
}

std::vector<LocateStatus> Resolver::locate_status() const {
    std::vector<LocateStatus> out;
    for (const auto& [id, l] : locates_) {
        LocateStatus s;
        s.id = id;
        s.request = l.req;
        s.current = l.current;
        s.resolving = l.job != nullptr;
        s.refresh_at = l.refresh_at;
        s.updates = l.updates;
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace sipedge::dns
