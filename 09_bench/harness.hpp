// harness.hpp — one measurement cell: a mechanism, a message size, a CPU placement and a mode,
// run between two forked processes and reported back to the parent.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bench.hpp"
#include "stats.hpp"

namespace bench {

// open_loop: a sends one-way messages on a fixed schedule (Settings::rate), b times each from its
// due time (the method lab's rate sweep, lab_roles.cpp).
enum class Mode { pingpong, stream, open_loop };

struct Placement {
    std::string name;  // "same" or "cross"
    int cpu_a = 0, cpu_b = 0;
    bool pinned = true;  // false: the scheduler places both (cpu_a, cpu_b unused)
};

struct Settings {
    std::chrono::milliseconds budget{150};  // timed part of one repetition
    std::chrono::milliseconds warmup{30};
    int reps = 3;
    std::chrono::milliseconds deadline{0};  // kill a cell after this long (0: derived)
    bool touch_payload = true;  // false: only the 8-byte sequence word is written and checked
    bool threads = false;  // ping-pong between two threads of one child instead of two children
    // The loop the published benchmarks write: one constant buffer sent and received, no clock
    // read per round trip, nothing checked, total time / count (peers_way.cpp).
    bool peers_way = false;
    // Ping-pong: after each repetition of the cell's own loop, one repetition of this mechanism's
    // peers' loop, in the same two processes (same mechanism: on the same endpoints). Each pair
    // of repetitions shares the host's speed of that moment (Measured::reps, peers_reps).
    const Mechanism* peers_beside = nullptr;
    // Mode::open_loop: messages offered per second for `budget` (at least kOpenLoopMinMessages),
    // and how far in the past the schedule starts (a sender that is late from the first message).
    double rate = 0;
    std::chrono::milliseconds backdate{0};
    bool sender_spins = true;  // false: a only sleeps to each due time (a shares b's CPU)
};

struct Measured {
    std::string error;  // empty when every message arrived intact
    Spread rate;        // per second: round trips (pingpong) or messages at the receiver (stream)
    double p50_us = 0, p99_us = 0, p999_us = 0;  // round-trip latency (pingpong)
    std::uint64_t count = 0;    // round trips or messages measured, all repetitions
    std::uint64_t samples = 0;  // ping-pong: the latency samples behind the percentiles
    // Ping-pong: round trips per second in the timed part, where each is timed on its own (the
    // rate above counts untimed ones): what a clock read per round trip costs.
    double timed_rate = 0;
    double cpu_us_per_op = 0;  // user + system CPU time of both sides per round trip or message
    // Ping-pong with Settings::peers_beside: each repetition's rate and, right after it, its
    // peers' way's (round trips per second), in run order. CPU time and samples are the cell's own.
    std::vector<double> reps, peers_reps;
    // Mode::open_loop: rate is the achieved one at b, count the messages b received, the
    // percentiles one-way latency from each message's due time; and these:
    std::uint64_t offered = 0;          // messages a sent on the schedule
    double cpu_us_a = 0, cpu_us_b = 0;  // each side's CPU time per message
    [[nodiscard]] bool ok() const { return error.empty(); }
};

// The CPUs this process may run on (taskset and cgroups can narrow them), in order.
[[nodiscard]] std::vector<int> allowed_cpus();
// "same": both sides on the first allowed CPU; "cross" (where two are allowed): the first two.
[[nodiscard]] std::vector<Placement> standard_placements();

// Runs one cell in two fresh processes pinned as `where` says. A cell that stalls past its
// deadline is killed and reported with an error; the caller goes on with the next one.
[[nodiscard]] Measured run_cell(const Mechanism& m, std::size_t size, const Placement& where,
                                Mode mode, const Settings& s);

// One measurement of the cache-line floor at `where`, the peers' way (total time / count), in
// two shapes, one after the other, each in fresh processes on a fresh mapping; the faster is kept.
// The shapes: the cache-line row's one line that both directions share, and the shm ring's own
// way of handing over a line (an 8-byte message fills one), which on some machines is quicker.
[[nodiscard]] Measured measure_floor(const Placement& where, Settings s);

// The message format every cell uses, exposed for the tests. Bytes 0..7 hold the sequence
// number (top bits: end-of-repetition, stop and switch-to-the-peers'-loop marks); bytes 8..15 a
// check word made from it; the rest is the body, which every message of a cell carries unchanged
// (filled(), roles.cpp). An 8-byte message carries the sequence number only.
inline constexpr std::uint64_t kStop = 1ULL << 63, kEndRep = 1ULL << 62, kSwitch = 1ULL << 61;
void stamp(std::span<std::byte> msg, std::uint64_t word);
// Throws std::runtime_error naming what is wrong unless msg carries `word`, its check word, and
// from byte 16 on exactly the bytes of `sent` (a message of the same size as the sender's).
void verify(std::span<const std::byte> msg, std::uint64_t word, std::span<const std::byte> sent);

// The open-loop roles (lab_roles.cpp). A message carries its sequence number in bytes 0..7 and
// its due time (CLOCK_MONOTONIC, ns) in bytes 8..15: the time it should have been sent, not the
// time it was, so a sender that falls behind shows as latency (no coordinated omission).
struct Report;  // roles.hpp
inline constexpr std::uint64_t kOpenLoopMinMessages = 50;
void open_loop_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r);
void open_loop_b(Endpoint& ep, std::size_t size, Report& r);
// When message k of a schedule that starts at start_ns is due, at `rate` messages per second.
[[nodiscard]] std::int64_t due_ns(std::int64_t start_ns, std::uint64_t k, double rate);
// One message's one-way latency: received − due. Throws std::runtime_error if negative (the
// message left before it was due: the sender's wait is broken).
[[nodiscard]] std::uint64_t one_way_ns(std::int64_t due_ns, std::int64_t received_ns);

// For ipc_bench: after this, SIGINT, SIGTERM and SIGHUP no longer end the program at once.
// The cell under way stops (its children killed and reaped, its kernel objects removed by their
// guards), and raise_if_interrupted(), called after each cell, then ends the program with that
// signal. Nothing of a run survives Ctrl-C.
void stop_cells_on_signals();
void raise_if_interrupted();

// What one clock_gettime(CLOCK_MONOTONIC) costs here, in nanoseconds.
[[nodiscard]] double clock_cost_ns();

// How long the shm ring spins before it sleeps on a futex, timed on this machine.
struct SpinBudget {
    int pauses = 0;  // pause instructions
    double ns = 0;   // what they take here (median of repeated timings)
};
[[nodiscard]] SpinBudget ring_spin_budget();

}  // namespace bench
