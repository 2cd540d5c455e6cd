#pragma once
// Test helper: answers a Locator's questions from a table of synthetic
// answers (anything not in the table is NXDOMAIN), and records which
// questions were asked, in order.

#include <map>
#include <string>
#include <vector>

#include "dns/locator.h"
#include "dns/records.h"

namespace sipedge::dns::testing {

struct FakeDns {
    std::map<Question, Answer> answers;
    std::vector<Question> asked;

    void naptr(const std::string& name, std::vector<NaptrRr> rrs) {
        Answer& a = answers[Question{name, RrType::naptr}];
        a.status = AnswerStatus::ok;
        a.naptr = std::move(rrs);
    }
    void srv(const std::string& name, std::vector<SrvRr> rrs) {
        Answer& a = answers[Question{name, RrType::srv}];
        a.status = AnswerStatus::ok;
        a.srv = std::move(rrs);
    }
    void addr(const std::string& name, const std::string& ip, uint32_t ttl = 300) {
        const IpAddr ad = *IpAddr::parse(ip);
        Answer& a = answers[Question{name, ad.family == 4 ? RrType::a : RrType::aaaa}];
        a.status = AnswerStatus::ok;
        a.addrs.push_back(AddrRr{ad, ttl});
    }
    void fail(const std::string& name, RrType t, AnswerStatus s) {
        answers[Question{name, t}] = Answer::failure(s, "synthetic");
    }

    /// Runs <loc> to completion (answers in question order) and returns its list.
    ServerList run(Locator& loc) {
        for (int guard = 0; guard < 1000 && !loc.done(); guard++) {
            std::vector<Question> qs = loc.take_questions();
            if (qs.empty())
                break;
            for (const Question& q : qs) {
                asked.push_back(q);
                auto it = answers.find(q);
                const Answer a = it != answers.end() ? it->second
                                                     : Answer::failure(AnswerStatus::nxdomain, "no such name");
                loc.on_answer(q, a, Source::network, 1000 + 1000 * a.min_ttl_s());
            }
        }
        return loc.result();
    }
};

/// An Rng that plays back fixed draws (clamped to the bound) and counts calls.
struct FixedDraws {
    std::vector<uint32_t> draws;
    size_t next = 0;
    Rng rng() {
        return [this](uint32_t max) {
            const uint32_t d = next < draws.size() ? draws[next] : 0;
            next++;
            return d > max ? max : d;
        };
    }
};

inline std::vector<std::string> addrs_of(const ServerList& l) {
    std::vector<std::string> out;
    for (const Target* t : l.flat())
        out.push_back(t->addr.to_string());
    return out;
}

}  // namespace sipedge::dns::testing
