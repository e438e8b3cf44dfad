// roles.cpp — what each child does in a cell.
//   pingpong  a sends, b answers with a message of the same size; a times one round trip in
//             16 on its own (one latency sample each) and counts round trips per second;
//   stream    a sends as fast as the mechanism takes messages, reading the clock once per batch;
//             b counts what arrives and reads the clock only at the ends of each repetition.
// Every message is stamped with a sequence number and checksum, and the receiver verifies it.
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
void stamp_or_word(std::span<std::byte> msg, std::uint64_t word, std::uint64_t sum, bool touch) {
    if (touch) return stamp(msg, word, sum);
    std::memcpy(msg.data(), &word, sizeof word);
}
void verify_or_word(std::span<const std::byte> msg, std::uint64_t word, bool touch) {
    if (touch) return verify(msg, word);
    std::uint64_t w = 0;
    std::memcpy(&w, msg.data(), sizeof w);
    if (w != word)
        throw std::runtime_error("message " + std::to_string(word) + " expected, another arrived");
}

}  // namespace

void pingpong_a(Endpoint& ep, std::size_t size, const Settings& s, Report& r) {
    auto out = filled(size), in = filled(size);
    const std::uint64_t sum = payload_sum(out);
    // Allocated before the clock starts; left uninitialised, so only the pages used are touched.
    auto samples = std::make_unique_for_overwrite<std::uint32_t[]>(kMaxSamples);
    std::uint64_t seq = 0;
    std::size_t k = 0;
    auto exchange = [&] {
        stamp_or_word(out, seq, sum, s.touch_payload);
        ep.send(out);
        ep.recv(in);
        verify_or_word(in, seq++, s.touch_payload);
    };
    const double cpu_start = cpu_seconds();
    const auto warm = Clock::now();
    do exchange();
    while (Clock::now() - warm < s.warmup);  // the first one is the handshake
    for (; r.reps < s.reps; ++r.reps) {
        // One round trip in kSampleEvery is timed on its own (a clock read before and after it);
        // the others run untimed, so the clock's cost stays out of the rate, which is the count
        // over the whole repetition's time.
        const auto start = Clock::now();
        auto last = start;
        std::uint64_t n = 0;
        for (;;) {
            for (int i = 1; i < kSampleEvery; ++i) exchange();
            const auto t0 = Clock::now();
            exchange();
            last = Clock::now();
            n += kSampleEvery;
            samples[k++] = std::uint32_t(std::min<std::int64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(last - t0).count(),
                UINT32_MAX));
            if (last - start >= s.budget || k == kMaxSamples) break;
        }
        r.rate[r.reps] = double(n) / seconds(last - start);
        r.count += n;
    }
    r.cpu_s = cpu_seconds() - cpu_start, r.ops = seq;
    stamp_or_word(out, seq | kStop, sum, s.touch_payload);
    ep.send(out);
    std::sort(samples.get(), samples.get() + k);
    std::span<const std::uint32_t> sorted(samples.get(), k);
    r.p50_us = percentile_sorted(sorted, 50) / 1e3;
    r.p99_us = percentile_sorted(sorted, 99) / 1e3;
    r.p999_us = percentile_sorted(sorted, 99.9) / 1e3;
}

void pingpong_b(Endpoint& ep, std::size_t size, const Settings& s, Report& r) {
    auto out = filled(size), in = filled(size);
    const std::uint64_t sum = payload_sum(out);
    const double cpu_start = cpu_seconds();
    for (std::uint64_t seq = 0;; ++seq) {
        ep.recv(in);
        std::uint64_t w = 0;
        std::memcpy(&w, in.data(), sizeof w);
        verify_or_word(in, seq | (w & kStop), s.touch_payload);
        if (w & kStop) {
            r.cpu_s = cpu_seconds() - cpu_start, r.ops = seq;
            return;
        }
        stamp_or_word(out, w, sum, s.touch_payload);
        ep.send(out);
    }
}

void stream_a(Endpoint& ep, std::size_t size, const Settings& s) {
    auto out = filled(size), in = filled(size);
    const std::uint64_t sum = payload_sum(out);
    const std::size_t batch = std::clamp<std::size_t>((256 << 10) / size, 1, 64);
    std::uint64_t seq = 0;
    auto round_trip = [&](std::uint64_t flags) {  // the handshake, and the end of each repetition
        stamp(out, seq | flags, sum);
        ep.send(out);
        ep.recv(in);
        verify(in, seq++ | flags);
    };
    round_trip(0);
    for (int rep = -1; rep < s.reps; ++rep) {  // repetition -1 is the warm-up
        const auto start = Clock::now();
        const auto budget = rep < 0 ? s.warmup : s.budget;
        do {
            for (std::size_t i = 0; i < batch; ++i) {
                stamp(out, seq++, sum);
                ep.send(out);
            }
        } while (Clock::now() - start < budget);
        round_trip(kEndRep);
    }
    stamp(out, seq | kStop, sum);
    ep.send(out);
}

void stream_b(Endpoint& ep, std::size_t size, Report& r) {
    auto out = filled(size), in = filled(size);
    const std::uint64_t sum = payload_sum(out);
    std::uint64_t n = 0;
    int rep = -1;
    Clock::time_point start;
    for (std::uint64_t seq = 0;; ++seq) {
        ep.recv(in);
        std::uint64_t w = 0;
        std::memcpy(&w, in.data(), sizeof w);
        verify(in, seq | (w & (kStop | kEndRep)));
        if (w & kStop) return;
        if (seq == 0 || (w & kEndRep)) {
            if (seq > 0 && rep >= 0 && rep < kMaxReps) {
                r.rate[r.reps++] = double(n) / seconds(Clock::now() - start);
                r.count += n;
            }
            if (seq > 0) ++rep;
            stamp(out, w, sum);
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
