// roles.cpp — what each child does in a cell.
//   pingpong  a sends, b answers with a message of the same size; a times one round trip in
//             1 to 64 on its own (one latency sample each; sample_every()) and counts round
//             trips per second;
//   stream    a sends as fast as the mechanism takes messages, reading the clock once per batch;
//             b counts what arrives and reads the clock only at the ends of each repetition.
// Every message is stamped with a sequence number and a check word, and the receiver compares it
// byte for byte with what was sent.
#include "roles.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
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

int sample_every(double clock_ns, double trip_ns) {
    int every = 1;
    while (every < kMaxSampleEvery && 2 * clock_ns > 0.01 * every * trip_ns) every *= 2;
    return every;
}

void pingpong_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r) {
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
    const double cpu_start = cpu_seconds();
    exchange();  // the handshake: b is there
    // The warm-up reads the clock after every round trip, which also prices both.
    const auto warm = Clock::now();
    auto now = warm;
    std::uint64_t warm_trips = 0;
    do exchange(), ++warm_trips, now = Clock::now();
    while (now - warm < s.warmup);
    const auto c0 = Clock::now();
    auto c1 = c0;
    for (int i = 0; i < 64; ++i) c1 = Clock::now();
    const double clock_ns = std::chrono::duration<double, std::nano>(c1 - c0).count() / 64;
    const int every =
        sample_every(clock_ns, std::chrono::duration<double, std::nano>(now - warm).count() /
                                   double(warm_trips));
    for (; r.reps < s.reps; ++r.reps) {
        // One round trip in `every` is timed on its own (a clock read before and after it);
        // the others run untimed, so the clock's cost stays out of the rate, which is the count
        // over the whole repetition's time.
        const auto start = Clock::now();
        auto last = start;
        std::uint64_t n = 0;
        for (;;) {
            for (int i = 1; i < every; ++i) exchange();
            const auto t0 = Clock::now();
            exchange();
            last = Clock::now();
            n += std::uint64_t(every);
            samples[k++] = std::uint32_t(std::min<std::int64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(last - t0).count(),
                UINT32_MAX));
            if (last - start >= s.budget || k == kMaxSamples) break;
        }
        r.rate[r.reps] = double(n) / seconds(last - start);
        r.count += n;
    }
    check_answer();  // the last answer
    r.cpu_s = cpu_seconds() - cpu_start, r.ops = seq;
    r.sample_every = every, r.samples = k;
    stamp_or_word(out, seq | kStop, s.touch_payload);
    ep.send(out);
    std::sort(samples.get(), samples.get() + k);
    std::span<const std::uint32_t> sorted(samples.get(), k);
    r.p50_us = percentile_sorted(sorted, 50) / 1e3;
    r.p99_us = percentile_sorted(sorted, 99) / 1e3;
    r.p999_us = percentile_sorted(sorted, 99.9) / 1e3;
}

void pingpong_b(Endpoint& ep, std::size_t size, const Settings& s, Report& r) {
    // Both sides send the same body, so our own message is what the peer's must hold; `in`
    // starts as zeros, so a transport that never delivers a body fails the first check.
    auto out = filled(size);
    std::vector<std::byte> in(size);
    const double cpu_start = cpu_seconds();
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
        verify_or_word(in, seq | (w & kStop), out, s.touch_payload);
        if (w & kStop) {
            r.cpu_s = cpu_seconds() - cpu_start, r.ops = seq;
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
