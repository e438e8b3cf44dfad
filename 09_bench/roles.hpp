// roles.hpp — the two sides of a cell, as each child runs them, and what a child reports.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench.hpp"
#include "harness.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;
inline constexpr int kMaxReps = 16;
inline constexpr std::size_t kMaxSamples = std::size_t(1) << 22;  // latency samples per cell
// What a child sends back to the parent: plain bytes, smaller than PIPE_BUF (one atomic write).
struct Report {
    char error[200] = {};
    int reps = 0;
    double rate[kMaxReps] = {};
    double peers_rate[kMaxReps] = {};  // Settings::peers_beside: the peers' loop after each one
    double p50_us = 0, p99_us = 0, p999_us = 0;
    std::uint64_t count = 0;
    double cpu_s = 0;           // user + system CPU time this side spent in its role (getrusage)
    std::uint64_t ops = 0;      // the exchanges that time covers (warm-up included)
    std::uint64_t samples = 0;  // ping-pong: latency samples taken (round trips timed one by one)
    double timed_rate = 0;      // ping-pong: round trips per second while each was timed
};

// The CPU time (user + system) the calling thread has used, in seconds.
inline double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
    auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// Ping-pong: a sends and times each round trip, b answers. Stream: a sends, b counts and times.
// With Settings::peers_beside, `peers` is the endpoint its loop runs on (it may be `ep`).
void pingpong_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r,
                Endpoint* peers = nullptr);
void pingpong_b(Endpoint& ep, std::size_t size, const Settings& s, Report& r,
                Endpoint* peers = nullptr);
void stream_a(Endpoint& ep, std::size_t size, const Settings& s);
void stream_b(Endpoint& ep, std::size_t size, Report& r);
// The peers' way (peers_way.cpp): the same exchange, minimal; a reports the rate only.
void peers_way_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r);
void peers_way_b(Endpoint& ep, std::size_t size, Report& r);
// Its parts, for a ping-pong that runs it beside its own loop. a: a warm-up that sizes a
// repetition to the budget, repetitions, and the stop, which b answers; b: answers until then and
// returns the count.
class PeersLoop {
public:
    explicit PeersLoop(std::size_t size);
    std::uint64_t warm_up(Endpoint& ep, const Settings& s);  // returns round trips per repetition
    double repetition(Endpoint& ep, std::uint64_t n);        // round trips per second
    void stop(Endpoint& ep);
    [[nodiscard]] std::uint64_t trips() const { return trips_; }  // all so far, warm-up included

private:
    std::vector<std::byte> out_, in_;
    std::uint64_t trips_ = 0;
};
std::uint64_t peers_answer(Endpoint& ep, std::size_t size);
// The ceiling reference: one process copying a buffer larger than this machine's L2 cache.
void memcpy_a(const Settings& s, Report& r);

}  // namespace bench
