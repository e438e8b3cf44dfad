// stream_sum.hpp — the data the zero-copy programs move, and how the receiving
// process checks it: a position-sensitive 64-bit checksum over 64 KiB blocks.
// Not part of any lesson: these are the test bench, not the calls being taught.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace zc {

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

}  // namespace zc
