// docs/knobs.md's generated knob tables (issue 13): the document must hold
// exactly what control/knob_doc.h generates from the knob table; the splice
// that rewrites it refuses broken markers.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "control/knob_doc.h"

namespace sipedge::ctl {
namespace {

std::string read_doc() {
    std::ifstream in(SIPEDGE_KNOBS_MD, std::ios::binary);
    if (!in) return "";
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(KnobsDoc, DocumentHoldsTheGeneratedTables) {
    const std::string doc = read_doc();
    ASSERT_FALSE(doc.empty()) << SIPEDGE_KNOBS_MD << " is missing or empty";
    const auto want = knobs_doc_update(doc);
    ASSERT_TRUE(want.ok()) << SIPEDGE_KNOBS_MD << ": " << want.error().message;
    EXPECT_TRUE(want.value() == doc) << SIPEDGE_KNOBS_MD
                                     << ": the generated knob tables differ from control/knob_table.cc at "
                                     << first_line_difference(doc, want.value())
                                     << "\nregenerate them with: " << knobs_regen_command;
}

// Every keyed knob has exactly one row, in its section's table.
TEST(KnobsDoc, EveryKnobHasOneRow) {
    std::string all;
    for (const KnobSection s : knob_sections()) all += knobs_markdown(s);
    auto count = [&](const std::string& cell) {
        size_t n = 0;
        for (size_t at = all.find(cell); at != std::string::npos; at = all.find(cell, at + 1)) n++;
        return n;
    };
    for (const TrunkKnob& k : trunk_knobs()) {
        EXPECT_EQ(count(std::string("| `") + k.key + "` |"), 1u) << k.key;
        EXPECT_NE(knobs_markdown(k.section).find(std::string("| `") + k.key + "` |"), std::string::npos) << k.key;
    }
    for (const GlobalKnob& k : global_knobs())
        EXPECT_EQ(count(std::string("| `") + k.key + "` (global) |"), 1u) << k.key;
}

// Range and default come from the descriptor and a default-constructed settings object.
TEST(KnobsDoc, RowsReadTheDescriptors) {
    const std::string timers = knobs_markdown(KnobSection::timers);
    EXPECT_NE(timers.find("| seed name | key | range | default | meaning | src |\n|---|---|---|---|---|---|\n"),
              std::string::npos);
    EXPECT_NE(timers.find("| ip sip timer T1 | `t1` | 50-1000 ms | `500` | "), std::string::npos) << timers;
    EXPECT_NE(timers.find("| `rollover-register` | follow-primary\\|1-32 s | `follow-primary` | "),
              std::string::npos)
        << timers;
    EXPECT_NE(timers.find("| `retry-model` | adtran\\|poly\\|cisco\\|audiocodes | `adtran` | "), std::string::npos);
    // '<' of plain text is escaped, so that markdown does not take "<min>" for a tag.
    EXPECT_NE(knobs_markdown(KnobSection::recovery).find("| off \\| \\<min> [\\<max>], 0-86400 s | `off` |"),
              std::string::npos);
    EXPECT_NE(knobs_markdown(KnobSection::dns).find("| `dns-restore-ttl` (global) | 90-600 s | `120` |"),
              std::string::npos);
    // A changed default shows: the column is read from TrunkSettings{}, not written twice.
    EXPECT_EQ(knob_default(*find_trunk_knob("t1")), std::to_string(TrunkSettings{}.t1_ms));
}

// The splice: the text outside the markers is kept, the inside replaced.
TEST(KnobsDoc, UpdateReplacesOnlyTheBlocks) {
    std::string doc = "# title\nhand-written\n";
    for (const KnobSection s : knob_sections())
        doc += "\n## " + std::string(knob_section_name(s)) + "\n<!-- begin generated knobs: " +
               knob_section_name(s) + " -->\nstale row\n" + std::string(knobs_end_marker) + "\nafter\n";
    const auto r = knobs_doc_update(doc);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.value().rfind("# title\nhand-written\n\n## timers\n" + knobs_begin_marker(KnobSection::timers) +
                                  "\n\n" + knobs_markdown(KnobSection::timers) + "\n" +
                                  std::string(knobs_end_marker) + "\nafter\n",
                              0),
              0u)
        << r.value();
    EXPECT_EQ(r.value().find("stale row"), std::string::npos);
    // Idempotent: the updated document is current.
    const auto again = knobs_doc_update(r.value());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value(), r.value());
    EXPECT_EQ(first_line_difference(r.value(), again.value()), "");
    // knobs_markdown() is the same blocks, one after another.
    EXPECT_TRUE(knobs_doc_update(knobs_markdown()).ok());
    EXPECT_EQ(knobs_doc_update(knobs_markdown()).value(), knobs_markdown());
}

TEST(KnobsDoc, UpdateRefusesBrokenMarkers) {
    const std::string end = std::string(knobs_end_marker) + "\n";
    std::string rest;  // every section but timers, well formed
    for (const KnobSection s : knob_sections())
        if (s != KnobSection::timers) rest += knobs_begin_marker(s) + "\n" + end;
    const std::string timers = knobs_begin_marker(KnobSection::timers) + "\n";
    auto refused = [](const std::string& doc, const std::string& why) {
        const auto r = knobs_doc_update(doc);
        if (r.ok()) return testing::AssertionFailure() << "accepted";
        if (r.error().message.find(why) == std::string::npos)
            return testing::AssertionFailure() << r.error().message;
        return testing::AssertionSuccess();
    };
    EXPECT_TRUE(knobs_doc_update(timers + end + rest).ok());
    EXPECT_TRUE(refused(rest, "no generated table for section 'timers'"));
    EXPECT_TRUE(refused(timers + end + timers + end + rest, "generated twice"));
    EXPECT_TRUE(refused(timers + rest, "no end marker"));
    EXPECT_TRUE(refused(rest + timers, "no end marker"));
    EXPECT_TRUE(refused(end + timers + end + rest, "end marker without a begin marker"));
    EXPECT_TRUE(refused("<!-- begin generated knobs: timer -->\n" + end + rest, "unknown section 'timer'"));
}

TEST(KnobsDoc, FirstLineDifference) {
    EXPECT_EQ(first_line_difference("a\nb\n", "a\nb\n"), "");
    EXPECT_EQ(first_line_difference("a\nb\nc\n", "a\nx\nc\n"), "line 2:\n  have: b\n  want: x");
    EXPECT_EQ(first_line_difference("a\n", "a\nb\n"), "line 2:\n  have: (end of text)\n  want: b");
    EXPECT_EQ(first_line_difference("a", "a\n"), "line 1: the final newline differs");
}

}  // namespace
}  // namespace sipedge::ctl
