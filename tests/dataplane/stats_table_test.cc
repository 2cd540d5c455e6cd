// The one counter table (dataplane/stats_table.h, issue 13): every scalar
// WorkerStats counter has exactly one row, so a counter added to the struct
// and forgotten in the table (and thus in the exit JSON, show stats,
// telemetry and metrics) fails here; names, exit-JSON keys and metric
// series are unique; a section's rows are consecutive (the exit JSON prints
// each section once).

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane/stats_table.h"

namespace sipedge::dp {
namespace {

size_t word_of(const WorkerStats& s, const uint64_t* p) {
    return size_t(reinterpret_cast<const char*>(p) - reinterpret_cast<const char*>(&s)) / sizeof(uint64_t);
}

TEST(StatsTable, EveryCounterHasExactlyOneRow) {
    const WorkerStats s;
    std::vector<int> cover(worker_stats_counter_bytes / sizeof(uint64_t), 0);
    for (const CounterInfo& c : worker_counters()) {
        const size_t w = word_of(s, &(s.*c.field));
        ASSERT_LT(w, cover.size()) << c.name;
        cover[w]++;
    }
    // The arrays have views of their own (ports, drops).
    auto arr = [&](const uint64_t* a, size_t n) {
        for (size_t i = 0; i < n; i++) cover[word_of(s, a + i)]++;
    };
    arr(s.port_rx, std::size(s.port_rx));
    arr(s.port_tx, std::size(s.port_tx));
    arr(s.port_udp_csum_partial, std::size(s.port_udp_csum_partial));
    arr(s.drops, std::size(s.drops));
    for (size_t w = 0; w < cover.size(); w++)
        EXPECT_EQ(cover[w], 1) << "WorkerStats word " << w << " (byte " << w * 8 << ") is in "
                               << cover[w] << " rows of dataplane/stats_table.h";
}

TEST(StatsTable, NamesKeysAndSeriesAreUnique) {
    std::set<std::string> names, keys, series, done_sections;
    std::map<std::string, std::string> label_of;  // family -> its label name
    std::string section;
    for (const CounterInfo& c : worker_counters()) {
        EXPECT_TRUE(names.insert(c.name).second) << c.name;
        EXPECT_TRUE(keys.insert(std::string(c.section) + "." + c.key).second) << c.section << "." << c.key;
        if (section != c.section) {
            EXPECT_TRUE(done_sections.insert(c.section).second) << "section " << c.section << " is split";
            section = c.section;
        }
        if (!c.metric) continue;
        const std::string m = c.metric;
        EXPECT_EQ(m.rfind("sipedge_worker_", 0), 0u) << m;
        EXPECT_EQ(c.gauge, m.size() < 6 || m.compare(m.size() - 6, 6, "_total") != 0)
            << m << ": counters end in _total, gauges do not";
        EXPECT_TRUE(series.insert(m + "{" + (c.label ? c.label : "") + "=" + (c.value ? c.value : "") + "}").second)
            << m << " " << (c.value ? c.value : "");
        EXPECT_EQ(c.label == nullptr, c.value == nullptr) << c.name;
        auto [it, fresh] = label_of.emplace(m, c.label ? c.label : "");
        EXPECT_EQ(it->second, c.label ? c.label : "") << m << ": one label name per family";
    }
}

}  // namespace
}  // namespace sipedge::dp
