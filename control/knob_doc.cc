#include "control/knob_doc.h"

#include <array>
#include <vector>

namespace sipedge::ctl {

namespace {

constexpr KnobSection sections[] = {
    KnobSection::timers,   KnobSection::dns,      KnobSection::triggers,  KnobSection::registration,
    KnobSection::recovery, KnobSection::keepalive, KnobSection::sustained,
};

constexpr std::string_view begin_prefix = "<!-- begin generated knobs: ";

// One table cell: '|' would end the cell (GFM tables, code spans included).
// Plain text (seed names, ranges) also escapes '<', which markdown would take
// for an HTML tag ("<min>"); code spans and meanings (already markdown) keep it.
std::string cell(std::string_view text, bool plain) {
    std::string out;
    for (const char c : text) {
        if (c == '|' || (plain && c == '<')) out += '\\';
        out += c;
    }
    return out;
}

template <class S>
std::string row(const KnobDef<S>& k, const char* scope) {
    std::string key = "`" + std::string(k.key) + "`";
    if (*scope) key += std::string(" (") + scope + ")";
    return "| " + cell(k.seed, true) + " | " + cell(key, false) + " | " + cell(knob_range(k), true) + " | " +
           cell("`" + knob_default(k) + "`", false) + " | " + cell(k.meaning, false) + " | " + cell(k.src, true) +
           " |\n";
}

// The lines of <text>, without their '\n'; a last line without one counts.
std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    size_t at = 0;
    while (at < text.size()) {
        const size_t nl = text.find('\n', at);
        const size_t end = nl == std::string_view::npos ? text.size() : nl;
        out.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

const KnobSection* section_named(std::string_view name) noexcept {
    for (const KnobSection& s : sections)
        if (name == knob_section_name(s)) return &s;
    return nullptr;
}

}  // namespace

std::span<const KnobSection> knob_sections() noexcept { return sections; }

const char* knob_section_name(KnobSection s) noexcept {
    switch (s) {
    case KnobSection::timers: return "timers";
    case KnobSection::dns: return "dns";
    case KnobSection::triggers: return "triggers";
    case KnobSection::registration: return "registration";
    case KnobSection::recovery: return "recovery";
    case KnobSection::keepalive: return "keepalive";
    case KnobSection::sustained: return "sustained";
    }
    return "?";
}

std::string knobs_markdown(KnobSection s) {
    std::string out =
        "| seed name | key | range | default | meaning | src |\n"
        "|---|---|---|---|---|---|\n";
    for (const TrunkKnob& k : trunk_knobs())
        if (k.section == s) out += row(k, "");
    for (const GlobalKnob& k : global_knobs())
        if (k.section == s) out += row(k, "global");
    return out;
}

std::string knobs_markdown() {
    std::string out;
    for (const KnobSection s : sections) {
        if (!out.empty()) out += "\n";
        out += knobs_begin_marker(s) + "\n\n" + knobs_markdown(s) + "\n" + std::string(knobs_end_marker) + "\n";
    }
    return out;
}

std::string knobs_begin_marker(KnobSection s) {
    return std::string(begin_prefix) + knob_section_name(s) +
           " (scripts/gen-knobs-doc.sh; edit control/knob_table.cc, not these rows) -->";
}

Result<std::string> knobs_doc_update(std::string_view doc) {
    const std::vector<std::string_view> lines = lines_of(doc);
    std::array<bool, std::size(sections)> seen{};
    std::string out;
    for (size_t i = 0; i < lines.size(); i++) {
        const std::string_view l = lines[i];
        const std::string where = "line " + std::to_string(i + 1) + ": ";
        if (l == knobs_end_marker) return err(EINVAL, where + "end marker without a begin marker");
        if (l.substr(0, begin_prefix.size()) != begin_prefix) {
            out.append(l);
            out += '\n';
            continue;
        }
        std::string_view name = l.substr(begin_prefix.size());
        name = name.substr(0, name.find_first_of(" -"));
        const KnobSection* s = section_named(name);
        if (!s) return err(EINVAL, where + "unknown section '" + std::string(name) + "'");
        const size_t idx = size_t(s - sections);
        if (seen[idx]) return err(EINVAL, where + "section '" + std::string(name) + "' is generated twice");
        seen[idx] = true;
        size_t end = i + 1;
        while (end < lines.size() && lines[end] != knobs_end_marker) {
            if (lines[end].substr(0, begin_prefix.size()) == begin_prefix)
                return err(EINVAL, where + "section '" + std::string(name) + "' has no end marker before line " +
                                       std::to_string(end + 1));
            end++;
        }
        if (end == lines.size())
            return err(EINVAL, where + "section '" + std::string(name) + "' has no end marker");
        out += knobs_begin_marker(*s) + "\n\n" + knobs_markdown(*s) + "\n" + std::string(knobs_end_marker) + "\n";
        i = end;
    }
    for (size_t i = 0; i < seen.size(); i++)
        if (!seen[i]) return err(EINVAL, std::string("no generated table for section '") +
                                             knob_section_name(sections[i]) + "'");
    // A document that does not end with a newline keeps it that way.
    if (!doc.empty() && doc.back() != '\n') out.pop_back();
    return out;
}

std::string first_line_difference(std::string_view have, std::string_view want) {
    if (have == want) return "";
    const std::vector<std::string_view> h = lines_of(have), w = lines_of(want);
    size_t i = 0;
    while (i < h.size() && i < w.size() && h[i] == w[i]) i++;
    if (i == h.size() && i == w.size()) return "line " + std::to_string(i) + ": the final newline differs";
    auto show = [](const std::vector<std::string_view>& v, size_t at) {
        return at < v.size() ? std::string(v[at]) : std::string("(end of text)");
    };
    return "line " + std::to_string(i + 1) + ":\n  have: " + show(h, i) + "\n  want: " + show(w, i);
}

}  // namespace sipedge::ctl
