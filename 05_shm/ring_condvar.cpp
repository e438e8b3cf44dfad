// ring_condvar.cpp — producer-consumer between processes, the monitor way
// (note 001's Q5, between processes): the ring (cond_ring.hpp) is guarded by
// a process-shared, robust mutex and two condition variables. A process
// locks the mutex and is killed with SIGKILL holding it; the next locker gets
// EOWNERDEAD, calls pthread_mutex_consistent, and the ring goes on: PRODUCERS
// send ITEMS each to CONSUMERS (ring_item.hpp runs and checks them).
//
// Run:    ./ring_condvar [PRODUCERS CONSUMERS ITEMS]     (default 3 2 1000)
// Prints: process <pid> killed by SIGKILL while holding the mutex
//         consumer 0 took <n> items, consumer 1 took <m> items
//         3000 items from 3 producers through 8 slots: each exactly once, in order per producer
//         EOWNERDEAD recoveries: 1
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>

#include "cond_ring.hpp"
#include "kit/check.hpp"
#include "ring_item.hpp"

namespace {
// EOWNERDEAD: we hold the mutex, but its last owner died inside its critical
// section, perhaps halfway through an update (pop moves head, then count). A
// real program checks or repairs its data here; ours touched nothing.
void recover_if_owner_died(ch05::CondRing& r, int rc, const char* call) {
    if (rc == EOWNERDEAD) {
        ++r.recoveries;
        kit::check_err(::pthread_mutex_consistent(&r.mutex), "pthread_mutex_consistent");
        return;
    }
    kit::check_err(rc, call);
}

// Locks, then waits on `cond` until `ready()`; false (and not locked) if
// kPatience passes first.
template <class Ready>
bool lock_when(ch05::CondRing& r, pthread_cond_t& cond, Ready ready) {
    const timespec deadline = ch05::deadline_after(ch05::kPatience);
    // trylock first: ThreadSanitizer's timedlock wrapper misses EOWNERDEAD.
    int rc = ::pthread_mutex_trylock(&r.mutex);
    if (rc == EBUSY && (rc = ::pthread_mutex_timedlock(&r.mutex, &deadline)) == ETIMEDOUT)
        return false;
    recover_if_owner_died(r, rc, "pthread_mutex_lock");
    while (!ready()) {
        rc = ::pthread_cond_timedwait(&cond, &r.mutex, &deadline);  // unlocks, waits, relocks
        if (rc == ETIMEDOUT) {
            kit::check_err(::pthread_mutex_unlock(&r.mutex), "pthread_mutex_unlock");
            return false;
        }
        recover_if_owner_died(r, rc, "pthread_cond_timedwait");
    }
    return true;
}

bool push(ch05::CondRing& r, ch05::Item item) {
    if (!lock_when(r, r.not_full, [&] { return r.count < ch05::kSlots; })) return false;
    r.slots[(r.head + r.count) % ch05::kSlots] = item;
    ++r.count;
    kit::check_err(::pthread_cond_signal(&r.not_empty), "pthread_cond_signal");
    kit::check_err(::pthread_mutex_unlock(&r.mutex), "pthread_mutex_unlock");
    return true;
}

std::optional<ch05::Item> pop(ch05::CondRing& r) {
    if (!lock_when(r, r.not_empty, [&] { return r.count > 0; })) return std::nullopt;
    ch05::Item item = r.slots[r.head];
    r.head = (r.head + 1) % ch05::kSlots;
    --r.count;
    kit::check_err(::pthread_cond_signal(&r.not_full), "pthread_cond_signal");
    kit::check_err(::pthread_mutex_unlock(&r.mutex), "pthread_mutex_unlock");
    return item;
}

// In memory every process maps, before any process uses it.
void init(ch05::CondRing& r) {
    pthread_mutexattr_t ma;
    kit::check_err(::pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
    kit::check_err(::pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED),
                   "pthread_mutexattr_setpshared");
    kit::check_err(::pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST),
                   "pthread_mutexattr_setrobust");
    kit::check_err(::pthread_mutex_init(&r.mutex, &ma), "pthread_mutex_init");
    pthread_condattr_t ca;
    kit::check_err(::pthread_condattr_init(&ca), "pthread_condattr_init");
    kit::check_err(::pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED),
                   "pthread_condattr_setpshared");
    kit::check_err(::pthread_cond_init(&r.not_full, &ca), "pthread_cond_init");
    kit::check_err(::pthread_cond_init(&r.not_empty, &ca), "pthread_cond_init");
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PRODUCERS CONSUMERS ITEMS]", [](auto args) {
        const ch05::RingShape shape = ch05::ring_shape(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);

        ch05::RingMemory<ch05::CondRing> mem(shape);  // MAP_SHARED | MAP_ANONYMOUS, zeroed
        ch05::CondRing& r = mem.ring();
        init(r);

        int locked[2];  // a process that dies inside its critical section
        kit::check(::pipe(locked), "pipe");
        kit::Child doomed = kit::spawn([&] {
            kit::check_err(::pthread_mutex_lock(&r.mutex), "pthread_mutex_lock");
            kit::check(::write(locked[1], "L", 1), "write");
            ::pause();  // holds the mutex until killed
        });
        const pid_t pid = doomed.pid();
        char c = 0;
        if (kit::check(::read(locked[0], &c, 1), "read") != 1) return 1;
        kit::check(::kill(pid, SIGKILL), "kill");
        if (!doomed.wait().killed_by(SIGKILL)) return 1;
        std::printf("process %d killed by SIGKILL while holding the mutex\n", int(pid));

        const bool ok = ch05::run_ring(
            shape, mem, [&](ch05::Item item) { return push(r, item); }, [&] { return pop(r); });
        std::printf("EOWNERDEAD recoveries: %d\n", r.recoveries);
        return ok && r.recoveries == 1 ? 0 : 1;
    });
}
