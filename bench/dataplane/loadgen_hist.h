#pragma once
// HDR-like log-linear histogram for the load generator's latencies: 32
// linear sub-buckets per power of two, so any recorded value is reported
// within 1/32 (3.1 %) of itself. Fixed size (1920 counters, 15 KiB), no
// allocation, O(1) record; percentiles walk the counters once.

#include <cstddef>
#include <cstdint>

namespace sipedge::bench {

class LogHistogram {
public:
    static constexpr unsigned sub_bits = 5;
    static constexpr uint64_t sub = uint64_t(1) << sub_bits;
    static constexpr size_t buckets = (64 - sub_bits + 1) * sub;

    /// Counts <v> (any unit; the load generator records nanoseconds).
    void record(uint64_t v) noexcept {
        counts_[index(v)]++;
        n_++;
        sum_ += v;
        if (v > max_) max_ = v;
        if (n_ == 1 || v < min_) min_ = v;
    }

    /// Adds every value <o> counted (one generator queue's histogram into
    /// the run's).
    void merge(const LogHistogram& o) noexcept {
        for (size_t i = 0; i < buckets; i++) counts_[i] += o.counts_[i];
        if (o.n_ && (n_ == 0 || o.min_ < min_)) min_ = o.min_;
        if (o.max_ > max_) max_ = o.max_;
        n_ += o.n_;
        sum_ += o.sum_;
    }

    uint64_t count() const noexcept { return n_; }
    uint64_t max() const noexcept { return max_; }
    uint64_t min() const noexcept { return n_ ? min_ : 0; }
    double mean() const noexcept { return n_ ? double(sum_) / double(n_) : 0.0; }

    /// The value at percentile <p> (0-100]: the upper bound of the bucket
    /// holding the ceil(p% · count)-th smallest value, never above max().
    /// 0 when empty.
    uint64_t percentile(double p) const noexcept {
        if (n_ == 0) return 0;
        uint64_t rank = uint64_t(p / 100.0 * double(n_) + 0.999999);
        if (rank < 1) rank = 1;
        if (rank > n_) rank = n_;
        uint64_t seen = 0;
        for (size_t i = 0; i < buckets; i++) {
            seen += counts_[i];
            if (seen >= rank) {
                const uint64_t u = upper(i);
                return u < max_ ? u : max_;
            }
        }
        return max_;
    }

    /// Bucket of <v>: values below 32 have their own; above, the top 6 bits
    /// (leading 1 + 5 sub-bucket bits) and the exponent pick it.
    static size_t index(uint64_t v) noexcept {
        if (v < sub) return size_t(v);
        const unsigned msb = 63u - unsigned(__builtin_clzll(v));
        const unsigned shift = msb - sub_bits;
        return size_t(shift + 1) * sub + size_t((v >> shift) - sub);
    }
    /// Largest value that falls in bucket <i>.
    static uint64_t upper(size_t i) noexcept {
        if (i < sub) return i;
        const unsigned shift = unsigned(i / sub) - 1;
        const uint64_t lower = (sub + i % sub) << shift;
        return lower + ((uint64_t(1) << shift) - 1);
    }

private:
    uint64_t counts_[buckets] = {};
    uint64_t n_ = 0, sum_ = 0, max_ = 0, min_ = 0;
};

}  // namespace sipedge::bench
