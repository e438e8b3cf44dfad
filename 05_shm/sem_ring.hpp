// sem_ring.hpp — a bounded ring buffer in shared memory, guarded by three
// POSIX semaphores (the textbook producer-consumer): `empty` counts free
// slots, `full` counts filled slots, `mutex` makes the index update exclusive.
// Every wait is bounded: a semaphore has no owner, so when a process dies
// holding one, nothing releases it — the others can only notice (ETIMEDOUT).
#pragma once

#include <semaphore.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <optional>

#include "kit/check.hpp"
#include "ring_item.hpp"

namespace ch05 {

struct SemRing {
    sem_t empty;       // free slots: starts at kSlots
    sem_t full;        // filled slots: starts at 0
    sem_t mutex;       // 1 = nobody is moving an index
    std::size_t head;  // next slot to take
    std::size_t tail;  // next slot to fill
    std::array<Item, kSlots> slots;
};

// Call once, in memory every process maps (MAP_SHARED), before forking.
inline void init(SemRing& r) {
    kit::check(sem_init(&r.empty, /*pshared=*/1, kSlots), "sem_init");
    kit::check(sem_init(&r.full, 1, 0), "sem_init");
    kit::check(sem_init(&r.mutex, 1, 1), "sem_init");
    r.head = r.tail = 0;
}

inline void destroy(SemRing& r) {
    sem_destroy(&r.empty);
    sem_destroy(&r.full);
    sem_destroy(&r.mutex);
}

// P(s), giving up after `timeout`: false on ETIMEDOUT.
[[nodiscard]] inline bool wait_for(sem_t& s, std::chrono::milliseconds timeout) {
    const timespec deadline = deadline_after(timeout);
    while (sem_timedwait(&s, &deadline) == -1) {
        if (errno == ETIMEDOUT) return false;
        if (errno != EINTR) throw kit::SysError(errno, "sem_timedwait");
    }
    return true;
}

// Producer: P(empty) P(mutex) put V(mutex) V(full). False if a wait timed out.
[[nodiscard]] inline bool push(SemRing& r, Item item, std::chrono::milliseconds timeout) {
    if (!wait_for(r.empty, timeout)) return false;
    if (!wait_for(r.mutex, timeout)) {
        kit::check(sem_post(&r.empty), "sem_post");
        return false;
    }
    r.slots[r.tail] = item;
    r.tail = (r.tail + 1) % kSlots;
    kit::check(sem_post(&r.mutex), "sem_post");
    kit::check(sem_post(&r.full), "sem_post");
    return true;
}

// Consumer: P(full) P(mutex) take V(mutex) V(empty). Nothing if a wait timed out.
[[nodiscard]] inline std::optional<Item> pop(SemRing& r, std::chrono::milliseconds timeout) {
    if (!wait_for(r.full, timeout)) return std::nullopt;
    if (!wait_for(r.mutex, timeout)) {
        kit::check(sem_post(&r.full), "sem_post");
        return std::nullopt;
    }
    Item item = r.slots[r.head];
    r.head = (r.head + 1) % kSlots;
    kit::check(sem_post(&r.mutex), "sem_post");
    kit::check(sem_post(&r.empty), "sem_post");
    return item;
}

}  // namespace ch05
