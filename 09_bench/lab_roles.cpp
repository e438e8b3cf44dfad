// lab_roles.cpp — the open-loop sweep's two sides.
//   a  offers messages on a fixed schedule: message k is due at start + k / rate. It sleeps with
//      clock_nanosleep(TIMER_ABSTIME) until kSpinNs before each due time (timer slack 1 ns), then
//      spins the last microseconds (Settings::sender_spins; on b's CPU it only sleeps, so as not
//      to keep b from running); a message already overdue goes at once. It stamps the due
//      time, not the send time, into the message, so a sender that falls behind is not hidden.
//   b  receives, checks the sequence number, and takes latency = receive time − due time, both
//      read from CLOCK_MONOTONIC, one clock for every process of the machine.
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "mapping.hpp"
#include "roles.hpp"
#include "stats.hpp"

namespace bench {
namespace {

constexpr std::int64_t kSpinNs = 20'000;  // a spins this long before a due time, sleeps before

std::int64_t mono_ns() {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return std::int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

void wait_until(std::int64_t due, bool spin) {
    for (std::int64_t now = mono_ns(); now < due; now = mono_ns()) {
        if (!spin || due - now > 2 * kSpinNs) {
            const std::int64_t wake = spin ? due - kSpinNs : due;
            const timespec t{time_t(wake / 1'000'000'000), long(wake % 1'000'000'000)};
            const int e = ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr);
            if (e != 0 && e != EINTR) throw kit::SysError(e, "clock_nanosleep");
        } else {
            pause_cpu();
        }
    }
}

void put(std::span<std::byte> msg, std::uint64_t word, std::int64_t due) {
    std::memcpy(msg.data(), &word, sizeof word);
    std::memcpy(msg.data() + 8, &due, sizeof due);
}
std::uint64_t word_of(std::span<const std::byte> msg) {
    std::uint64_t w = 0;
    std::memcpy(&w, msg.data(), sizeof w);
    return w;
}

}  // namespace

std::int64_t due_ns(std::int64_t start_ns, std::uint64_t k, double rate) {
    return start_ns + std::int64_t(std::llround(double(k) * 1e9 / rate));
}

std::uint64_t one_way_ns(std::int64_t due, std::int64_t received) {
    if (received < due)
        throw std::runtime_error("a message arrived " + std::to_string(due - received) +
                                 " ns before it was due: the sender did not wait");
    return std::uint64_t(received - due);
}

void open_loop_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r) {
    if (size < 16) throw std::runtime_error("open loop: a message needs 16 bytes");
    if (!(s.rate > 0)) throw std::runtime_error("open loop: no rate");
    kit::check(::prctl(PR_SET_TIMERSLACK, 1UL), "prctl PR_SET_TIMERSLACK");  // wake on time
    std::vector<std::byte> out(size, std::byte{0x5a}), in(size);
    put(out, kEndRep, 0);  // the handshake: b is ready before the schedule starts
    ep.send(out);
    ep.recv(in);
    if (word_of(in) != kEndRep) throw std::runtime_error("open loop: bad handshake");
    const double seconds = std::chrono::duration<double>(s.budget).count();
    const auto n = std::clamp<std::uint64_t>(std::uint64_t(s.rate * seconds), kOpenLoopMinMessages,
                                             kMaxSamples);
    const double cpu_start = cpu_seconds();
    const std::int64_t start = mono_ns() + 100'000 - std::chrono::nanoseconds(s.backdate).count();
    for (std::uint64_t k = 0; k < n; ++k) {
        const std::int64_t due = due_ns(start, k, s.rate);
        wait_until(due, s.sender_spins);
        put(out, k, due);
        ep.send(out);
    }
    r.cpu_s = cpu_seconds() - cpu_start, r.ops = n, r.count = n;
    put(out, n | kStop, 0);
    ep.send(out);
}

void open_loop_b(Endpoint& ep, std::size_t size, Report& r) {
    std::vector<std::byte> in(size), out(size, std::byte{0x5a});
    ep.recv(in);
    if (word_of(in) != kEndRep) throw std::runtime_error("open loop: bad handshake");
    put(out, kEndRep, 0);
    ep.send(out);
    auto samples = std::make_unique_for_overwrite<std::uint32_t[]>(kMaxSamples);
    const double cpu_start = cpu_seconds();
    std::uint64_t k = 0;
    std::int64_t first_due = 0, last = 0;
    for (;; ++k) {
        ep.recv(in);
        const std::int64_t now = mono_ns();
        const std::uint64_t w = word_of(in);
        if (w == (k | kStop)) break;
        if (w != k)
            throw std::runtime_error("open loop: message " + std::to_string(k) +
                                     " expected, another arrived");
        if (k == kMaxSamples) throw std::runtime_error("open loop: more messages than samples");
        std::int64_t due = 0;
        std::memcpy(&due, in.data() + 8, sizeof due);
        samples[k] = std::uint32_t(std::min<std::uint64_t>(one_way_ns(due, now), UINT32_MAX));
        if (k == 0) first_due = due;
        last = now;
    }
    r.cpu_s = cpu_seconds() - cpu_start, r.ops = k, r.count = k;
    // Achieved: the messages over the time from the first one's due time to the last arrival.
    if (k > 0 && last > first_due) r.rate[r.reps++] = double(k) / (double(last - first_due) / 1e9);
    std::sort(samples.get(), samples.get() + k);
    std::span<const std::uint32_t> sorted(samples.get(), k);
    r.p50_us = percentile_sorted(sorted, 50) / 1e3;
    r.p99_us = percentile_sorted(sorted, 99) / 1e3;
    r.p999_us = percentile_sorted(sorted, 99.9) / 1e3;
}

}  // namespace bench
