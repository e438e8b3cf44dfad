// roles.hpp — the two sides of a cell, as each child runs them, and what a child reports.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "bench.hpp"
#include "harness.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;
inline constexpr int kMaxReps = 16;
inline constexpr std::size_t kMaxSamples = std::size_t(1) << 22;  // latency samples per cell
inline constexpr int kMaxSampleEvery = 64;
// A ping-pong times one round trip in `every` on its own (two clock reads) and runs the others
// untimed: `every` is the smallest power of two, up to kMaxSampleEvery, for which those two reads
// stay under 1 % of the time `every` round trips take. A pipe's round trip of microseconds is
// timed every time; a shared-memory one of 100 ns, one in 64.
[[nodiscard]] int sample_every(double clock_ns, double trip_ns);

// What a child sends back to the parent: plain bytes, smaller than PIPE_BUF (one atomic write).
struct Report {
    char error[200] = {};
    int reps = 0;
    double rate[kMaxReps] = {};
    double p50_us = 0, p99_us = 0, p999_us = 0;
    std::uint64_t count = 0;
    double cpu_s = 0;           // user + system CPU time this side spent in its role (getrusage)
    std::uint64_t ops = 0;      // the exchanges that time covers (warm-up included)
    int sample_every = 0;       // ping-pong: one round trip in this many was timed
    std::uint64_t samples = 0;  // ping-pong: latency samples taken
};

// The CPU time (user + system) the calling thread has used, in seconds.
inline double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
    auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// Ping-pong: a sends and times each round trip, b answers. Stream: a sends, b counts and times.
void pingpong_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r);
void pingpong_b(Endpoint& ep, std::size_t size, const Settings& s, Report& r);
void stream_a(Endpoint& ep, std::size_t size, const Settings& s);
void stream_b(Endpoint& ep, std::size_t size, Report& r);
// The peers' way (peers_way.cpp): the same exchange, minimal; a reports the rate only.
void peers_way_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r);
void peers_way_b(Endpoint& ep, std::size_t size, Report& r);
// The ceiling reference: one process copying a buffer larger than this machine's L2 cache.
void memcpy_a(const Settings& s, Report& r);

}  // namespace bench
