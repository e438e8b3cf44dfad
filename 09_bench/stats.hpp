// stats.hpp — the statistics ipc_bench reports: nearest-rank percentiles of latency samples,
// and the median with min and max of repeated measurements.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace bench {

// Nearest-rank percentile (0 < p <= 100) of samples sorted ascending: the smallest value
// that at least p % of the samples do not exceed. 1..1000 gives p50 = 500, p99 = 990.
template <class T>
[[nodiscard]] T percentile_sorted(std::span<const T> sorted, double p) {
    if (sorted.empty()) return T{};
    // The epsilon keeps 99.9 % of 1000 at rank 999: in binary, 99.9 / 100 * 1000 is
    // 999.0000000000001.
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(sorted.size()) - 1e-9));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

struct Spread {
    double median = 0, min = 0, max = 0;
};

// Median (the mean of the middle two for an even count), min and max of repeated runs.
[[nodiscard]] inline Spread spread(std::vector<double> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return {median, v.front(), v.back()};
}

}  // namespace bench
