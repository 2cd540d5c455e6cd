#pragma once
// Injected randomness for the failover engine: recovery-delay draws, RFC 5626
// back-off jitter, RFC 2782 weighted selection, start-up spreading, Call-ID
// and cnonce values. A seeded SplitMix64 generator, so a simulation with the
// same seed replays exactly; the control thread seeds it from the OS at
// start-up. Not for cryptographic use (cnonces only need to be unpredictable
// enough to defeat replay caches, RFC 7616 §3.4).

#include <cstdint>

namespace sipedge::failover {

class Random {
public:
    explicit Random(uint64_t seed = 0x5eed) noexcept : s_(seed) {}

    /// Next 64 random bits (SplitMix64, Steele et al. 2014).
    uint64_t next() noexcept {
        uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    /// Uniform in [lo, hi] (inclusive); returns <lo> when hi <= lo.
    uint64_t uniform(uint64_t lo, uint64_t hi) noexcept {
        if (hi <= lo) return lo;
        const uint64_t span = hi - lo + 1;
        return span == 0 ? next() : lo + next() % span;  // modulo bias < 2^-40 for our spans
    }
    uint64_t state() const noexcept { return s_; }

private:
    uint64_t s_;
};

}  // namespace sipedge::failover
