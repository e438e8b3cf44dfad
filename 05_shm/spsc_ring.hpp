// spsc_ring.hpp — a lock-free ring for exactly one producer process and one
// consumer process, in shared memory. No lock and no system call: each index
// has a single writer, and acquire/release ordering on the indices is what
// makes a slot's contents visible to the other process.
//
//   producer: write slots[tail], then tail.store(release)   — publishes the slot
//   consumer: tail.load(acquire), then read slots[head]     — sees what was published
//   consumer: read slots[head], then head.store(release)    — gives the slot back
//   producer: head.load(acquire), then overwrite the slot   — only after it was read
//
// head and tail sit on separate cache lines (alignas(64)): each is written by
// one process, and sharing a line would make every store invalidate the
// other's cached copy (false sharing).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ch05 {

inline constexpr std::size_t kSpscSlots = 1024;

static_assert(std::atomic_ref<std::size_t>::is_always_lock_free,
              "a lock-based atomic would not be atomic across processes");

struct SpscRing {
    alignas(64) std::size_t tail;  // next slot to fill: written only by the producer
    alignas(64) std::size_t head;  // next slot to take: written only by the consumer
    alignas(64) std::array<std::uint64_t, kSpscSlots> slots;
};

// Producer only. False when the ring is full.
[[nodiscard]] inline bool try_push(SpscRing& r, std::uint64_t value) {
    std::atomic_ref<std::size_t> tail(r.tail), head(r.head);
    const std::size_t t = tail.load(std::memory_order_relaxed);  // our own index
    if (t - head.load(std::memory_order_acquire) == kSpscSlots) return false;
    r.slots[t % kSpscSlots] = value;
    tail.store(t + 1, std::memory_order_release);
    return true;
}

// Consumer only. False when the ring is empty.
[[nodiscard]] inline bool try_pop(SpscRing& r, std::uint64_t& value) {
    std::atomic_ref<std::size_t> tail(r.tail), head(r.head);
    const std::size_t h = head.load(std::memory_order_relaxed);  // our own index
    if (h == tail.load(std::memory_order_acquire)) return false;
    value = r.slots[h % kSpscSlots];
    head.store(h + 1, std::memory_order_release);
    return true;
}

}  // namespace ch05
