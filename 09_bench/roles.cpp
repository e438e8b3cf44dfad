// roles.cpp — what each child does in a cell.
//   pingpong  a sends, b answers with a message of the same size; a counts round trips per
//             second over repetitions with no clock read among them, and after each one times
//             round trips one by one for a third of its time (the latency samples);
//   stream    a sends as fast as the mechanism takes messages, reading the clock once per batch;
//             b counts what arrives and reads the clock only at the ends of each repetition.
// Every message is stamped with a sequence number and a check word, and the receiver compares it
// byte for byte with what was sent.
#include "roles.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "stats.hpp"

namespace bench {
namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A message body: 256 distinct bytes, then copies of them (quick to make even for 64 MiB).
std::vector<std::byte> filled(std::size_t size) {
    std::vector<std::byte> v(size);
    for (std::size_t i = 0; i < std::min<std::size_t>(size, 256); ++i)
        v[i] = std::byte((i * 131 + 7) & 0xff);
    for (std::size_t done = 256; done < size; done *= 2)
        std::memcpy(v.data() + done, v.data(), std::min(done, size - done));
    return v;
}

// With the payload untouched (the method lab), only the sequence word is written and checked:
// what a benchmark that sends one constant buffer over and over measures.
void stamp_or_word(std::span<std::byte> msg, std::uint64_t word, bool touch) {
    if (touch) return stamp(msg, word);
    std::memcpy(msg.data(), &word, sizeof word);
}
void verify_or_word(std::span<const std::byte> msg, std::uint64_t word,
                    std::span<const std::byte> sent, bool touch) {
    if (touch) return verify(msg, word, sent);
    std::uint64_t w = 0;
    std::memcpy(&w, msg.data(), sizeof w);
    if (w != word)
        throw std::runtime_error("message " + std::to_string(word) + " expected, another arrived");
}

}  // namespace

void pingpong_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r, Endpoint* peers) {
    // Both sides send the same body, so our own message is what the peer's must hold; `in`
    // starts as zeros, so a transport that never delivers a body fails the first check.
    auto out = filled(size);
    std::vector<std::byte> in(size);
    // Allocated before the clock starts; left uninitialised, so only the pages used are touched.
    auto samples = std::make_unique_for_overwrite<std::uint32_t[]>(kMaxSamples);
    std::uint64_t seq = 0;
    std::size_t k = 0;
    // Each answer is checked while our next message travels (before we wait for its answer), so
    // the check costs nothing on the round trip's path, yet no answer goes unchecked. The answer
    // to message seq - 1 is in `in` from the second exchange on.
    auto check_answer = [&] {
        if (seq > 0) verify_or_word(in, seq - 1, out, s.touch_payload);
    };
    auto exchange = [&] {
        stamp_or_word(out, seq, s.touch_payload);
        ep.send(out);
        check_answer();
        ep.recv(in);
        ++seq;
    };
    // Beside the cell's own loop, the peers' loop (Settings::peers_beside): a marked message of
    // ours that b answers, then the peers' loop until its stop. Its CPU time is not the cell's.
    std::optional<PeersLoop> loop;
    if (peers) loop.emplace(size);
    std::uint64_t peers_n = 0;
    double peers_cpu = 0;
    auto run_peers = [&](double* rate) {
        stamp_or_word(out, seq | kSwitch, s.touch_payload);
        ep.send(out);
        check_answer();
        ep.recv(in);
        ++seq;
        const double c0 = cpu_seconds();
        if (rate)
            *rate = loop->repetition(*peers, peers_n);
        else
            peers_n = loop->warm_up(*peers, s);
        loop->stop(*peers);
        peers_cpu += cpu_seconds() - c0;
    };
    const double cpu_start = cpu_seconds();
    exchange();  // the handshake: b is there
    // The warm-up reads the clock after every round trip; it sizes the rate's repetitions: as
    // many round trips as fit the budget.
    const auto warm = Clock::now();
    auto now = warm;
    std::uint64_t warm_trips = 0;
    do exchange(), ++warm_trips, now = Clock::now();
    while (now - warm < s.warmup);
    const auto n = std::max<std::uint64_t>(
        1, std::uint64_t(double(warm_trips) * seconds(s.budget) / seconds(now - warm)));
    const auto timed_for = std::chrono::duration_cast<Clock::duration>(s.budget) / 3;
    Clock::duration timed_time{};
    std::uint64_t timed_trips = 0;
    if (peers) run_peers(nullptr);
    for (; r.reps < s.reps; ++r.reps) {
        // The pairs alternate which loop runs first, so a drift of the host's speed during the
        // cell favours neither.
        const bool peers_first = peers && r.reps % 2 == 1;
        if (peers_first) run_peers(&r.peers_rate[r.reps]);
        // The rate: n round trips with no clock read among them, total time / count, as the
        // peers' way counts. A clock read on every round trip is not free (the method lab's "each
        // trip timed" row shows its price).
        const auto start = Clock::now();
        for (std::uint64_t i = 0; i < n; ++i) exchange();
        r.rate[r.reps] = double(n) / seconds(Clock::now() - start);
        r.count += n;
        // The latency: then a third of the budget more, each round trip timed. One clock read
        // per round trip: a sample runs from the end of one to the end of the next.
        const std::size_t first = k;
        const auto l0 = Clock::now();
        auto t0 = l0;
        while (k < kMaxSamples) {
            exchange();
            const auto t1 = Clock::now();
            samples[k++] = std::uint32_t(std::min<std::int64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), UINT32_MAX));
            t0 = t1;
            if (t1 - l0 >= timed_for) break;
        }
        timed_time += t0 - l0;
        timed_trips += k - first;
        if (peers && !peers_first) run_peers(&r.peers_rate[r.reps]);
    }
    check_answer();  // the last answer
    r.cpu_s = cpu_seconds() - cpu_start - peers_cpu, r.ops = seq;
    r.samples = k;
    if (timed_trips) r.timed_rate = double(timed_trips) / seconds(timed_time);
    stamp_or_word(out, seq | kStop, s.touch_payload);
    ep.send(out);
    std::sort(samples.get(), samples.get() + k);
    std::span<const std::uint32_t> sorted(samples.get(), k);
    r.p50_us = percentile_sorted(sorted, 50) / 1e3;
    r.p99_us = percentile_sorted(sorted, 99) / 1e3;
    r.p999_us = percentile_sorted(sorted, 99.9) / 1e3;
}

void pingpong_b(Endpoint& ep, std::size_t size, const Settings& s, Report& r, Endpoint* peers) {
    // Both sides send the same body, so our own message is what the peer's must hold; `in`
    // starts as zeros, so a transport that never delivers a body fails the first check.
    auto out = filled(size);
    std::vector<std::byte> in(size);
    const double cpu_start = cpu_seconds();
    double peers_cpu = 0;
    // The answer goes out first and the message is checked after, while the answer travels: the
    // check stays off the round trip's path. The answer carries our own count, so a lost or
    // extra message also fails a's check of it, not only ours.
    for (std::uint64_t seq = 0;; ++seq) {
        ep.recv(in);
        std::uint64_t w = 0;
        std::memcpy(&w, in.data(), sizeof w);
        if (!(w & kStop)) {
            stamp_or_word(out, seq, s.touch_payload);
            ep.send(out);
        }
        verify_or_word(in, seq | (w & (kStop | kSwitch)), out, s.touch_payload);
        if (w & kSwitch) {  // a runs the peers' loop now, until its stop
            if (!peers)
                throw std::runtime_error("asked for the peers' loop, which this cell lacks");
            const double c0 = cpu_seconds();
            (void)peers_answer(*peers, size);
            peers_cpu += cpu_seconds() - c0;
        }
        if (w & kStop) {
            r.cpu_s = cpu_seconds() - cpu_start - peers_cpu, r.ops = seq;
            return;
        }
    }
}

void stream_a(Endpoint& ep, std::size_t size, const Settings& s) {
    // Both sides send the same body, so our own message is what the peer's must hold; `in`
    // starts as zeros, so a transport that never delivers a body fails the first check.
    auto out = filled(size);
    std::vector<std::byte> in(size);
    const std::size_t batch = std::clamp<std::size_t>((256 << 10) / size, 1, 64);
    std::uint64_t seq = 0;
    auto round_trip = [&](std::uint64_t flags) {  // the handshake, and the end of each repetition
        stamp(out, seq | flags);
        ep.send(out);
        ep.recv(in);
        verify(in, seq++ | flags, out);
    };
    round_trip(0);
    for (int rep = -1; rep < s.reps; ++rep) {  // repetition -1 is the warm-up
        const auto start = Clock::now();
        const auto budget = rep < 0 ? s.warmup : s.budget;
        do {
            for (std::size_t i = 0; i < batch; ++i) {
                stamp(out, seq++);
                ep.send(out);
            }
        } while (Clock::now() - start < budget);
        round_trip(kEndRep);
    }
    stamp(out, seq | kStop);
    ep.send(out);
}

void stream_b(Endpoint& ep, std::size_t size, Report& r) {
    // Both sides send the same body, so our own message is what the peer's must hold; `in`
    // starts as zeros, so a transport that never delivers a body fails the first check.
    auto out = filled(size);
    std::vector<std::byte> in(size);
    std::uint64_t n = 0;
    int rep = -1;
    Clock::time_point start;
    for (std::uint64_t seq = 0;; ++seq) {
        ep.recv(in);
        std::uint64_t w = 0;
        std::memcpy(&w, in.data(), sizeof w);
        verify(in, seq | (w & (kStop | kEndRep)), out);
        if (w & kStop) return;
        if (seq == 0 || (w & kEndRep)) {
            if (seq > 0 && rep >= 0 && rep < kMaxReps) {
                r.rate[r.reps++] = double(n) / seconds(Clock::now() - start);
                r.count += n;
            }
            if (seq > 0) ++rep;
            stamp(out, w);
            ep.send(out);
            n = 0;
            start = Clock::now();
        } else {
            ++n;
        }
    }
}

void memcpy_a(const Settings& s, Report& r) {
    constexpr std::size_t kBytes = std::size_t(64) << 20;  // larger than this machine's L2
    auto src = filled(kBytes), dst = filled(kBytes);
    std::memcpy(dst.data(), src.data(), kBytes);  // warm-up: every page touched
    for (; r.reps < s.reps; ++r.reps) {
        const auto start = Clock::now();
        std::uint64_t n = 0;
        do {
            std::memcpy(dst.data(), src.data(), kBytes);
            src[n % kBytes] = dst[(n * 4099) % kBytes];  // the copy is used, so not optimised away
            ++n;
        } while (Clock::now() - start < s.budget);
        r.rate[r.reps] = double(n * kBytes) / seconds(Clock::now() - start);  // bytes/s
        r.count += n;
    }
}

}  // namespace bench
