// ring_item.hpp — what the chapter's ring buffers carry, and the absolute
// deadline their timed waits need (sem_timedwait and pthread_cond_timedwait
// take a CLOCK_REALTIME time, not a duration).
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include "kit/check.hpp"

namespace ch05 {

inline constexpr std::size_t kSlots = 8;

struct Item {
    int producer;
    int seq;  // negative: "no more items" for the consumer that takes it
};

// The CLOCK_REALTIME time `timeout` from now.
[[nodiscard]] inline timespec deadline_after(std::chrono::milliseconds timeout) {
    timespec t{};
    kit::check(clock_gettime(CLOCK_REALTIME, &t), "clock_gettime");
    const long ns = t.tv_nsec + static_cast<long>(timeout.count() % 1000) * 1'000'000L;
    t.tv_sec += static_cast<time_t>(timeout.count() / 1000 + ns / 1'000'000'000L);
    t.tv_nsec = ns % 1'000'000'000L;
    return t;
}

// The consumers' logs (log c holds taken[c] items), checked: every (producer,
// seq) arrived exactly once, and within one log each producer's seqs rise —
// a FIFO ring hands one producer's items out in the order they were put in.
struct Verdict {
    bool exactly_once;
    bool in_order;
};
[[nodiscard]] inline Verdict check_logs(std::span<const Item> logs, std::span<const long> taken,
                                        std::size_t per_log, int producers, int items) {
    std::vector<int> count(std::size_t(producers) * std::size_t(items), 0);
    bool in_order = true;
    for (std::size_t c = 0; c < taken.size(); ++c) {
        std::vector<int> last(std::size_t(producers), -1);
        for (const Item& it : logs.subspan(c * per_log, std::size_t(taken[c]))) {
            if (it.producer < 0 || it.producer >= producers || it.seq < 0 || it.seq >= items)
                return {false, false};
            ++count[std::size_t(it.producer) * std::size_t(items) + std::size_t(it.seq)];
            in_order = in_order && it.seq > last[std::size_t(it.producer)];
            last[std::size_t(it.producer)] = it.seq;
        }
    }
    return {std::all_of(count.begin(), count.end(), [](int n) { return n == 1; }), in_order};
}

}  // namespace ch05
