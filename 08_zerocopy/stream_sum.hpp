// stream_sum.hpp — the protocol of send_with_copies.cpp and send_by_reference.cpp:
// the data they move (repeatable pseudo-random bytes), the report a receiving
// process sends back (bytes and a position-sensitive 64-bit checksum over
// 64 KiB blocks), and the chunk size of every call. No zero-copy call is here:
// those are in the programs.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace ch08 {

inline constexpr std::size_t kChunk = 64 * 1024;  // one default pipe's capacity

// FNV-style mixing of 8-byte words (then single bytes): order matters, so a
// reordered, lost or duplicated block changes the sum.
struct Sum {
    std::uint64_t h = 1469598103934665603ULL;
    void add(std::span<const unsigned char> p) {
        std::size_t i = 0;
        for (; i + 8 <= p.size(); i += 8) {
            std::uint64_t w;
            std::memcpy(&w, p.data() + i, 8);
            h = (h ^ w) * 1099511628211ULL;
        }
        for (; i < p.size(); ++i) h = (h ^ p[i]) * 1099511628211ULL;
    }
};

// Writes `size` bytes of pseudo-random data to fd (in kChunk blocks) and
// returns their checksum.
[[nodiscard]] inline std::uint64_t fill(int fd, std::size_t size) {
    std::vector<unsigned char> block(kChunk);
    Sum sum;
    std::uint64_t x = 88172645463325252ULL;  // xorshift64: incompressible, repeatable
    for (std::size_t off = 0; off < size; off += kChunk) {
        for (auto& b : block) x ^= x << 13, x ^= x >> 7, x ^= x << 17, b = std::uint8_t(x);
        auto part = std::span(block).first(std::min(kChunk, size - off));
        sum.add(part);
        kit::write_all(fd, std::as_bytes(part));
    }
    return sum.h;
}

// What a receiver saw.
struct Received {
    std::uint64_t bytes = 0;
    std::uint64_t sum = 0;
};

// The receiving role: read() until EOF in kChunk blocks (read_full keeps the
// blocks aligned with fill()'s, whatever sizes the kernel hands over).
[[nodiscard]] inline Received drain(int from) {
    std::vector<unsigned char> buf(kChunk);
    Received r;
    Sum sum;
    while (std::size_t n = kit::read_full(from, std::as_writable_bytes(std::span(buf)))) {
        sum.add(std::span(buf).first(n));
        r.bytes += n;
    }
    r.sum = sum.h;
    return r;
}

// What the sender has cost so far: CPU times and minor faults, and the clock.
struct Sample {
    rusage usage{};
    std::chrono::steady_clock::time_point at;
};
[[nodiscard]] inline Sample sample() {
    Sample s;
    kit::check(::getrusage(RUSAGE_SELF, &s.usage), "getrusage");
    s.at = std::chrono::steady_clock::now();
    return s;
}

// One row of the table both programs print: the sender's cost between two
// samples, whether the receiver got it all, and the copies the kernel's design
// makes on that path (a label, not a measurement: the CopyOrReference tests
// show each copy and each reference).
struct Row {
    const char* path;
    const char* to;
    const char* copies;  // sender + receiver
    Sample before, after;
    long calls;
    std::size_t size;
    bool ok;  // the receiver got `size` bytes with the sender's checksum
};

inline void print_header(std::size_t size) {
    std::printf("%zu MiB file in the page cache, at most %zu KiB per call\n", size >> 20,
                kChunk >> 10);
    std::printf("%-15s %-6s %4s %8s %7s %7s %8s %6s %6s %6s %s\n", "path", "to", "MiB", "wall ms",
                "user ms", "sys ms", "syscalls", "faults", "copies", "MiB/s", "checksum");
}

inline void print_row(const Row& r) {
    auto ms = [](const timeval& a, const timeval& b) {
        return double(b.tv_sec - a.tv_sec) * 1e3 + double(b.tv_usec - a.tv_usec) / 1e3;
    };
    const auto& u0 = r.before.usage;
    const auto& u1 = r.after.usage;
    const double wall_ms =
        std::chrono::duration<double, std::milli>(r.after.at - r.before.at).count();
    std::printf("%-15s %-6s %4llu %8.1f %7.1f %7.1f %8ld %6ld %6s %6.0f %s\n", r.path, r.to,
                static_cast<unsigned long long>(r.size >> 20), wall_ms,
                ms(u0.ru_utime, u1.ru_utime), ms(u0.ru_stime, u1.ru_stime), r.calls,
                u1.ru_minflt - u0.ru_minflt, r.copies, double(r.size >> 20) / (wall_ms / 1e3),
                r.ok ? "ok" : "MISMATCH");
    std::fflush(stdout);
}

}  // namespace ch08
