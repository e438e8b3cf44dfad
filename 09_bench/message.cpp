// message.cpp — the message format every cell uses: a sequence number and a check word in the
// header, and a body the receiver compares byte for byte with what the sender's body holds, so
// that a corrupted, lost, duplicated or reordered message is noticed.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "harness.hpp"

namespace bench {
namespace {

std::uint64_t mix(std::uint64_t w) { return (w + 1) * 0x9E3779B97F4A7C15ULL; }

}  // namespace

void stamp(std::span<std::byte> msg, std::uint64_t word) {
    std::memcpy(msg.data(), &word, sizeof word);
    if (msg.size() >= 16) {
        const std::uint64_t check = mix(word);
        std::memcpy(msg.data() + 8, &check, sizeof check);
    }
}

void verify(std::span<const std::byte> msg, std::uint64_t word, std::span<const std::byte> sent) {
    std::uint64_t got = 0, check = 0;
    std::memcpy(&got, msg.data(), sizeof got);
    const auto which = [&] {
        return "message " + std::to_string(word & ~(kStop | kEndRep | kSwitch));
    };
    if (got != word)
        throw std::runtime_error(which() + " expected, another arrived (sequence word " +
                                 std::to_string(got) + ")");
    if (msg.size() < 16) return;
    std::memcpy(&check, msg.data() + 8, sizeof check);
    if (check != mix(word)) throw std::runtime_error(which() + " arrived with a damaged header");
    if (sent.size() != msg.size())
        throw std::logic_error("verify: the sent body and the message differ in size");
    // Every byte compared with what the sender's body holds: a vector compare, which costs a
    // few nanoseconds at 100 B and runs at memory speed for large messages. The search for
    // where they differ runs only when they do.
    if (std::memcmp(msg.data() + 16, sent.data() + 16, msg.size() - 16) != 0) {
        const auto at = std::mismatch(msg.begin() + 16, msg.end(), sent.begin() + 16).first;
        throw std::runtime_error(which() + " arrived with wrong bytes (byte " +
                                 std::to_string(at - msg.begin()) + " differs from what was sent)");
    }
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
