// peers_way.cpp — the ping-pong loop as published IPC benchmarks write it (goldsborough's and
// rigtorp's ipc-bench, lmbench's lat_pipe): one constant buffer, sent and received with the
// mechanism's plain calls, no clock read per round trip, nothing checked; the rate is the count
// divided by the total time. The method lab's "peers' way" rows run it, so that every default
// row can be compared with the minimal loop of the same mechanism in the same sitting.
#include "peers_way.hpp"

#include <algorithm>
#include <vector>

#include "roles.hpp"

namespace bench {
namespace {

constexpr std::byte kGo{'*'}, kStopByte{'!'};  // the first byte tells b whether to answer

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// goldsborough/ipc-bench's shm: what its "Shared Memory" row measures.
const Mechanism kShmGuard{.name = "shm-guard",
                          .label = "goldsborough's shm (guard byte, spin)",
                          .streams = false,
                          .needs_two_cpus = true,
                          .make = make_shm_guard};

}  // namespace

const Mechanism* peers_way_of(std::string_view mech) {
    // The rows of the peers' tables (goldsborough's: pipe, mq, domain, tcp, shm, eventfd;
    // rigtorp's: pipe, unix, tcp): the same calls in the minimal loop.
    for (std::string_view same : {"pipe", "sysv-mq", "unix-stream", "tcp", "eventfd"})
        if (mech == same) return find_mechanism(same);
    if (mech == "shm-ring") return &kShmGuard;
    return nullptr;
}

void peers_way_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r) {
    std::vector<std::byte> out(size, kGo), in(size);
    const double cpu_start = cpu_seconds();
    // The warm-up also sizes a repetition: as many round trips as fit the budget at its rate, so
    // the timed loop itself never reads the clock.
    std::uint64_t warm = 0;
    const auto w0 = Clock::now();
    auto t = w0;
    do {
        for (int i = 0; i < 16; ++i, ++warm) ep.send(out), ep.recv(in);
        t = Clock::now();
    } while (t - w0 < s.warmup);
    const auto n = std::max<std::uint64_t>(
        1, std::uint64_t(double(warm) * seconds(s.budget) / seconds(t - w0)));
    for (; r.reps < s.reps && r.reps < kMaxReps; ++r.reps) {
        const auto start = Clock::now();
        for (std::uint64_t i = 0; i < n; ++i) ep.send(out), ep.recv(in);
        r.rate[r.reps] = double(n) / seconds(Clock::now() - start);
        r.count += n;
    }
    r.cpu_s = cpu_seconds() - cpu_start, r.ops = warm + r.count;
    out[0] = kStopByte;
    ep.send(out);
}

void peers_way_b(Endpoint& ep, std::size_t size, Report& r) {
    std::vector<std::byte> out(size, kGo), in(size);
    const double cpu_start = cpu_seconds();
    for (std::uint64_t n = 0;; ++n) {
        ep.recv(in);
        if (in[0] == kStopByte) {
            r.cpu_s = cpu_seconds() - cpu_start, r.ops = n;
            return;
        }
        ep.send(out);
    }
}

}  // namespace bench
