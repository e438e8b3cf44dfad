// message.cpp — the message format every cell uses: a sequence number, and a checksum of the
// rest mixed with it, so that a corrupted, lost, duplicated or reordered message is noticed.
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "harness.hpp"

namespace bench {
namespace {

std::uint64_t mix(std::uint64_t w) { return (w + 1) * 0x9E3779B97F4A7C15ULL; }

}  // namespace

std::uint64_t payload_sum(std::span<const std::byte> msg) {
    if (msg.size() <= 16) return 0;
    std::uint64_t lane[4] = {1, 2, 3, 4};  // four chains, so the sum runs at memory speed
    const std::byte* p = msg.data() + 16;
    std::size_t left = msg.size() - 16;
    for (; left >= 32; left -= 32, p += 32)
        for (int i = 0; i < 4; ++i) {
            std::uint64_t w;
            std::memcpy(&w, p + 8 * i, 8);
            lane[i] = (lane[i] ^ w) * 0x100000001B3ULL + std::uint64_t(i);
        }
    // Folded by multiplication, not shifts: a shift would drop a lane's top bit, and with it a
    // flipped top bit of every fourth word.
    std::uint64_t h = lane[0];
    for (int i = 1; i < 4; ++i) h = (h ^ lane[i]) * 0x100000001B3ULL;
    for (; left >= 8; left -= 8, p += 8) {  // the tail a word at a time, then the last bytes
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001B3ULL;
    }
    for (; left > 0; --left, ++p) h = (h ^ std::uint64_t(*p)) * 0x100000001B3ULL;
    return h;
}

void stamp(std::span<std::byte> msg, std::uint64_t word, std::uint64_t sum) {
    std::memcpy(msg.data(), &word, sizeof word);
    if (msg.size() >= 16) {
        const std::uint64_t check = sum ^ mix(word);
        std::memcpy(msg.data() + 8, &check, sizeof check);
    }
}

void verify(std::span<const std::byte> msg, std::uint64_t word) {
    std::uint64_t got = 0, check = 0;
    std::memcpy(&got, msg.data(), sizeof got);
    if (got != word)
        throw std::runtime_error("message " + std::to_string(word & ~(kStop | kEndRep)) +
                                 " expected, another arrived (sequence word " +
                                 std::to_string(got) + ")");
    if (msg.size() < 16) return;
    std::memcpy(&check, msg.data() + 8, sizeof check);
    if (check != (payload_sum(msg) ^ mix(word)))
        throw std::runtime_error("message " + std::to_string(word & ~(kStop | kEndRep)) +
                                 " arrived with wrong bytes (checksum mismatch)");
}

double clock_cost_ns() {
    constexpr int kReads = 200000;
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    auto t = start;
    for (int i = 0; i < kReads; ++i) t = Clock::now();
    return std::chrono::duration<double, std::nano>(t - start).count() / kReads;
}

}  // namespace bench
