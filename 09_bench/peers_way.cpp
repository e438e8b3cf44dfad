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

PeersLoop::PeersLoop(std::size_t size) : out_(size, kGo), in_(size) {}

std::uint64_t PeersLoop::warm_up(Endpoint& ep, const Settings& s) {
    // The warm-up also sizes a repetition: as many round trips as fit the budget at its rate, so
    // the timed loop itself never reads the clock.
    std::uint64_t warm = 0;
    const auto w0 = Clock::now();
    auto t = w0;
    do {
        for (int i = 0; i < 16; ++i, ++warm) ep.send(out_), ep.recv(in_);
        t = Clock::now();
    } while (t - w0 < s.warmup);
    trips_ += warm;
    return std::max<std::uint64_t>(
        1, std::uint64_t(double(warm) * seconds(s.budget) / seconds(t - w0)));
}

double PeersLoop::repetition(Endpoint& ep, std::uint64_t n) {
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) ep.send(out_), ep.recv(in_);
    const double rate = double(n) / seconds(Clock::now() - start);
    trips_ += n;
    return rate;
}

void PeersLoop::stop(Endpoint& ep) {
    // b answers the stop too, so no message is left in flight: an eventfd would add the next
    // message to an unread one.
    out_[0] = kStopByte;
    ep.send(out_);
    ep.recv(in_);
    out_[0] = kGo;
}

std::uint64_t peers_answer(Endpoint& ep, std::size_t size) {
    std::vector<std::byte> out(size, kGo), in(size);
    for (std::uint64_t n = 0;; ++n) {
        ep.recv(in);
        ep.send(out);
        if (in[0] == kStopByte) return n;
    }
}

void peers_way_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r) {
    PeersLoop loop(size);
    const double cpu_start = cpu_seconds();
    const std::uint64_t n = loop.warm_up(ep, s);
    for (; r.reps < s.reps && r.reps < kMaxReps; ++r.reps) {
        r.rate[r.reps] = loop.repetition(ep, n);
        r.count += n;
    }
    r.cpu_s = cpu_seconds() - cpu_start, r.ops = loop.trips();
    loop.stop(ep);
}

void peers_way_b(Endpoint& ep, std::size_t size, Report& r) {
    const double cpu_start = cpu_seconds();
    r.ops = peers_answer(ep, size);
    r.cpu_s = cpu_seconds() - cpu_start;
}

}  // namespace bench
