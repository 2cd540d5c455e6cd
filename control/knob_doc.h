#pragma once
// docs/knobs.md's knob tables, generated from the knob table (issue 13): per
// section, one markdown row per keyed knob with its seed name, key, range,
// default (read from default-constructed settings) and meaning. The document
// holds each table between marker comments; knobs_doc_update() rewrites the
// text between them and leaves the rest, hand-written, as it is.
// scripts/gen-knobs-doc.sh runs it on docs/knobs.md (sipedge-knobs-doc), and
// tests/control/ctl_knobs_doc_test.cc fails when the document is stale.

#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "control/knob_table.h"

namespace sipedge::ctl {

/// Every section, in document order.
std::span<const KnobSection> knob_sections() noexcept;
/// The section's word in the marker comments: "timers", "dns", ...
const char* knob_section_name(KnobSection s) noexcept;

/// The markdown table of the keyed knobs of <s> (trunk knobs, then global
/// ones, in table order): seed name | key | range | default | meaning | src.
/// Ends with a newline.
std::string knobs_markdown(KnobSection s);
/// Every section's table between its marker lines, as docs/knobs.md holds them.
std::string knobs_markdown();

/// The line that opens section <s>'s generated table.
std::string knobs_begin_marker(KnobSection s);
/// The line that closes every generated table.
inline constexpr std::string_view knobs_end_marker = "<!-- end generated knobs -->";
/// The command that regenerates docs/knobs.md, for messages.
inline constexpr std::string_view knobs_regen_command = "scripts/gen-knobs-doc.sh [BUILD_DIR]";

/// <doc> with the text between each begin marker and the next end marker
/// replaced by that section's table (and the begin line rewritten as
/// knobs_begin_marker()). Refuses a document whose markers are unpaired or
/// name an unknown section, or that misses or repeats a section.
Result<std::string> knobs_doc_update(std::string_view doc);

/// "" when <have> and <want> are equal, else the first line that differs:
/// "line N:\n  have: ...\n  want: ...".
std::string first_line_difference(std::string_view have, std::string_view want);

}  // namespace sipedge::ctl
