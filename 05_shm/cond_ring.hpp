// cond_ring.hpp — the same bounded ring, guarded the monitor way: one
// process-shared mutex and two process-shared condition variables (not_full,
// not_empty), as in note 001's Q5 — but in shared memory between processes.
// The mutex is also robust: if its owner dies, the next locker gets
// EOWNERDEAD instead of waiting forever, marks it consistent and goes on.
#pragma once

#include <pthread.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <optional>

#include "kit/check.hpp"
#include "ring_item.hpp"

namespace ch05 {

struct CondRing {
    pthread_mutex_t mutex;
    pthread_cond_t not_full;
    pthread_cond_t not_empty;
    std::size_t head;   // oldest item
    std::size_t count;  // items in the ring
    std::array<Item, kSlots> slots;
    int recoveries;  // how often a locker found the previous owner dead
};

// Call once, in memory every process maps (MAP_SHARED), before forking.
inline void init(CondRing& r) {
    pthread_mutexattr_t ma;
    kit::check_err(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
    kit::check_err(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED),
                   "pthread_mutexattr_setpshared");
    kit::check_err(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST),
                   "pthread_mutexattr_setrobust");
    kit::check_err(pthread_mutex_init(&r.mutex, &ma), "pthread_mutex_init");
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    kit::check_err(pthread_condattr_init(&ca), "pthread_condattr_init");
    kit::check_err(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED),
                   "pthread_condattr_setpshared");
    kit::check_err(pthread_cond_init(&r.not_full, &ca), "pthread_cond_init");
    kit::check_err(pthread_cond_init(&r.not_empty, &ca), "pthread_cond_init");
    pthread_condattr_destroy(&ca);
    r.head = r.count = 0;
    r.recoveries = 0;
}

// EOWNERDEAD means we now hold the mutex but its last owner died inside its
// critical section, perhaps halfway through an update (pop() moves head, then
// count). A real program checks or repairs its data here, before declaring it
// consistent; the holder that ring_condvar kills has touched nothing, so we
// only count the event.
inline void recover_if_owner_died(CondRing& r, int rc, const char* call) {
    if (rc == EOWNERDEAD) {
        ++r.recoveries;
        kit::check_err(pthread_mutex_consistent(&r.mutex), "pthread_mutex_consistent");
        return;
    }
    kit::check_err(rc, call);
}

// Locks, then waits on `cond` until `ready()`; false (and not locked) if the
// deadline passes first.
template <class Ready>
[[nodiscard]] bool lock_when(CondRing& r, pthread_cond_t& cond, const timespec& deadline,
                             Ready ready) {
    // trylock first: the common uncontended case, and the call whose EOWNERDEAD
    // ThreadSanitizer understands (its timedlock wrapper misses that case).
    int rc = pthread_mutex_trylock(&r.mutex);
    if (rc == EBUSY) {
        rc = pthread_mutex_timedlock(&r.mutex, &deadline);
        if (rc == ETIMEDOUT) return false;
    }
    recover_if_owner_died(r, rc, "pthread_mutex_lock");
    while (!ready()) {
        rc = pthread_cond_timedwait(&cond, &r.mutex, &deadline);
        if (rc == ETIMEDOUT) {
            kit::check_err(pthread_mutex_unlock(&r.mutex), "pthread_mutex_unlock");
            return false;
        }
        recover_if_owner_died(r, rc, "pthread_cond_timedwait");  // it re-locks the mutex
    }
    return true;
}

[[nodiscard]] inline bool push(CondRing& r, Item item, std::chrono::milliseconds timeout) {
    const timespec deadline = deadline_after(timeout);
    if (!lock_when(r, r.not_full, deadline, [&] { return r.count < kSlots; })) return false;
    r.slots[(r.head + r.count) % kSlots] = item;
    ++r.count;
    kit::check_err(pthread_cond_signal(&r.not_empty), "pthread_cond_signal");
    kit::check_err(pthread_mutex_unlock(&r.mutex), "pthread_mutex_unlock");
    return true;
}

[[nodiscard]] inline std::optional<Item> pop(CondRing& r, std::chrono::milliseconds timeout) {
    const timespec deadline = deadline_after(timeout);
    if (!lock_when(r, r.not_empty, deadline, [&] { return r.count > 0; })) return std::nullopt;
    Item item = r.slots[r.head];
    r.head = (r.head + 1) % kSlots;
    --r.count;
    kit::check_err(pthread_cond_signal(&r.not_full), "pthread_cond_signal");
    kit::check_err(pthread_mutex_unlock(&r.mutex), "pthread_mutex_unlock");
    return item;
}

}  // namespace ch05
