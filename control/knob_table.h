#pragma once
// The one table of configuration knobs: every row of shared/seed-knobs.md
// that has a knob, with our command key, the seed's name and source, range,
// default and meaning. Commands (`set trunk <name> <key> <value>`,
// `set global <key> <value>`), show, running-config, docs/knobs.md and the
// range-edge tests are all driven from it.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "control/state.h"

namespace sipedge::ctl {

enum class KnobKind : uint8_t {
    uint,           // decimal in [min, max]; zero_word (if set) stores 0
    boolean,        // on|off (also 1|0, true|false)
    choice,         // one of choices[]
    text,           // a string up to max bytes
    threshold,      // absolute <5-604800> | percentage <1-90> (seed A registrar threshold)
    recover_delay,  // off | <min> [<max>], 0-86400 s (seed A recover delay)
};

/// The section of docs/knobs.md (the seed's sections) whose generated table
/// lists the knob (control/knob_doc.h).
enum class KnobSection : uint8_t {
    timers,        // timers and retransmission
    dns,           // server list, DNS and selection (the global resolver knobs)
    triggers,      // failover triggers
    registration,  // registration and validated failover
    recovery,      // recovery and failback
    keepalive,     // keep-alives and monitoring
    sustained,     // sustained faults (sipedge)
};

template <class S>
struct KnobDef {
    const char* key;       // command word
    KnobKind kind;
    KnobSection section;
    uint32_t min = 0;
    uint32_t max = 0;
    const char* unit = "";             // "ms", "s" or ""
    const char* zero_word = nullptr;   // uint: word for 0 outside [min, max] (off, follow-primary)
    const char* const* choices = nullptr;  // choice: nullptr-terminated; stored as the index
    const char* seed = "";             // seed name(s) as the seed documents spell them
    const char* src = "";              // seed source letters: A, P, C, AC, E; "sipedge" for ours
    const char* meaning = "";          // docs/knobs.md's meaning column (markdown)
    uint32_t S::*u = nullptr;          // uint/threshold value, recover_delay min
    uint32_t S::*u2 = nullptr;         // recover_delay max
    bool S::*b = nullptr;              // boolean, recover_delay enabled
    uint8_t S::*c = nullptr;           // choice, threshold kind
    std::string S::*s = nullptr;       // text
};

using TrunkKnob = KnobDef<TrunkSettings>;
using GlobalKnob = KnobDef<GlobalSettings>;

std::span<const TrunkKnob> trunk_knobs() noexcept;
std::span<const GlobalKnob> global_knobs() noexcept;
const TrunkKnob* find_trunk_knob(std::string_view key) noexcept;
const GlobalKnob* find_global_knob(std::string_view key) noexcept;
/// The key of the trunk knob that stores <field> (its value, or a bound of
/// recover-delay), so that a message about a settings field names the knob
/// as the table spells it; nullptr when no knob does.
const char* trunk_knob_key(uint32_t TrunkSettings::*field) noexcept;
const char* trunk_knob_key(uint8_t TrunkSettings::*field) noexcept;

/// Parses <values> (the words after the key) into <s>. Rejects a value out of
/// range or an unknown word with "<key>: <why>; range <range>, default
/// <default> (seed <src>: <seed name>)" and leaves <s> unchanged.
template <class S>
Status knob_set(const KnobDef<S>& k, S& s, std::span<const std::string> values);
/// Resets the knob to its default.
template <class S>
void knob_reset(const KnobDef<S>& k, S& s);
/// The value words of the knob in <s> (already quoted where needed), as
/// knob_set accepts them.
template <class S>
std::string knob_value(const KnobDef<S>& k, const S& s);
/// "50-1000 ms", "on|off", "follow-primary|1-32 s", ...
template <class S>
std::string knob_range(const KnobDef<S>& k);
/// The default value's words.
template <class S>
std::string knob_default(const KnobDef<S>& k);
/// Whether the knob in <s> holds its default.
template <class S>
bool knob_is_default(const KnobDef<S>& k, const S& s);

}  // namespace sipedge::ctl
