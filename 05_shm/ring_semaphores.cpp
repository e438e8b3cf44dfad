// ring_semaphores.cpp — producer-consumer between processes: a ring of 8
// slots in MAP_SHARED memory (layout in sem_ring.hpp) guarded by three POSIX
// semaphores, the textbook way: `empty` counts free slots, `full` counts
// filled slots, `mutex` makes the index update exclusive. PRODUCERS processes
// each send ITEMS numbered items; CONSUMERS processes take and log them; the
// parent checks that every item arrived exactly once and, per producer, in
// order (ring_item.hpp). Producers block when the ring is full, consumers
// when it is empty. Every wait is bounded: a semaphore has no owner, so when
// a process dies holding one nothing gives it back — the others can only
// notice (ETIMEDOUT after 5 s).
//
// Run:    ./ring_semaphores [PRODUCERS CONSUMERS ITEMS]     (default 3 2 1000)
// Prints: consumer 0 took <n> items, consumer 1 took <m> items
//         3000 items from 3 producers through 8 slots: each exactly once, in order per producer
#include <semaphore.h>

#include <cerrno>
#include <cstdio>
#include <optional>

#include "kit/check.hpp"
#include "ring_item.hpp"
#include "sem_ring.hpp"

namespace {
// P(s), giving up after kPatience: false on ETIMEDOUT.
bool wait_for(sem_t& s) {
    const timespec deadline = ch05::deadline_after(ch05::kPatience);
    while (::sem_timedwait(&s, &deadline) == -1) {
        if (errno == ETIMEDOUT) return false;
        if (errno != EINTR) throw kit::SysError(errno, "sem_timedwait");
    }
    return true;
}

// Producer: P(empty) P(mutex) put V(mutex) V(full). False if a wait timed out.
bool push(ch05::SemRing& r, ch05::Item item) {
    if (!wait_for(r.empty) || !wait_for(r.mutex)) return false;
    r.slots[r.tail] = item;
    r.tail = (r.tail + 1) % ch05::kSlots;
    kit::check(::sem_post(&r.mutex), "sem_post");
    kit::check(::sem_post(&r.full), "sem_post");
    return true;
}

// Consumer: P(full) P(mutex) take V(mutex) V(empty). Nothing if a wait timed out.
std::optional<ch05::Item> pop(ch05::SemRing& r) {
    if (!wait_for(r.full) || !wait_for(r.mutex)) return std::nullopt;
    ch05::Item item = r.slots[r.head];
    r.head = (r.head + 1) % ch05::kSlots;
    kit::check(::sem_post(&r.mutex), "sem_post");
    kit::check(::sem_post(&r.empty), "sem_post");
    return item;
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PRODUCERS CONSUMERS ITEMS]", [](auto args) {
        const ch05::RingShape shape = ch05::ring_shape(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);

        ch05::RingMemory<ch05::SemRing> mem(shape);  // MAP_SHARED | MAP_ANONYMOUS, zeroed
        ch05::SemRing& r = mem.ring();
        kit::check(::sem_init(&r.empty, /*pshared=*/1, ch05::kSlots), "sem_init");
        kit::check(::sem_init(&r.full, 1, 0), "sem_init");
        kit::check(::sem_init(&r.mutex, 1, 1), "sem_init");

        const bool ok = ch05::run_ring(
            shape, mem, [&](ch05::Item item) { return push(r, item); }, [&] { return pop(r); });
        for (sem_t* sem : {&r.empty, &r.full, &r.mutex})
            kit::check(::sem_destroy(sem), "sem_destroy");
        return ok ? 0 : 1;
    });
}
