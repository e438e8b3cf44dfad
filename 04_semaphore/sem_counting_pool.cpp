// sem_counting_pool.cpp — a counting semaphore guards N identical resources:
// initialised to N, it lets N processes in and makes the next one wait. Six
// workers compete for 3 slots; each tells the parent when it is in (a second
// semaphore, "entered") and stays until the parent lets one out ("leave").
// The parent sees exactly 3 holders with the pool at 0, then lets them go.
//
// Run:    ./sem_counting_pool
// Prints: "3 holders, pool value 0: the other 3 workers wait"
//         "all 6 workers done, most holders at once: 3"
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "sem_shared.hpp"

namespace {

constexpr int kSlots = 3;
constexpr int kWorkers = 6;

struct Shared {
    sem_t pool;     // free slots: starts at kSlots
    sem_t entered;  // posted by each worker once it holds a slot
    sem_t leave;    // posted by the parent to release one holder
    int holders;    // updated with std::atomic_ref: several processes touch it
    int most;
};

// Waits at most 5 s: a broken pool fails instead of hanging.
void bounded_wait(sem_t* s) {
    timespec t{};
    kit::check(::clock_gettime(CLOCK_REALTIME, &t), "clock_gettime");
    t.tv_sec += 5;
    int rc = 0;
    while ((rc = ::sem_timedwait(s, &t)) == -1 && errno == EINTR) {
    }
    kit::check(rc, "sem_timedwait");
}

void worker(Shared* s) {
    bounded_wait(&s->pool);  // P: take a slot
    const int now = std::atomic_ref(s->holders).fetch_add(1) + 1;
    std::atomic_ref most(s->most);
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    kit::check(::sem_post(&s->entered), "sem_post");
    bounded_wait(&s->leave);
    std::atomic_ref(s->holders).fetch_sub(1);
    kit::check(::sem_post(&s->pool), "sem_post");  // V: give the slot back
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        ch04::SharedMapping<Shared> mem;  // shared with the workers forked below
        Shared* s = mem.get();
        kit::check(::sem_init(&s->pool, 1, kSlots), "sem_init");
        kit::check(::sem_init(&s->entered, 1, 0), "sem_init");
        kit::check(::sem_init(&s->leave, 1, 0), "sem_init");

        std::fflush(stdout);
        pid_t kids[kWorkers];
        for (pid_t& kid : kids) {
            kid = kit::check(::fork(), "fork");
            if (kid == 0) {
                try {
                    worker(s);
                } catch (const kit::SysError&) {
                    ::_exit(1);
                }
                ::_exit(0);
            }
        }
        for (int i = 0; i < kSlots; ++i) bounded_wait(&s->entered);
        int pool = -1;
        kit::check(::sem_getvalue(&s->pool, &pool), "sem_getvalue");
        std::printf("%d holders, pool value %d: the other %d workers wait\n",
                    std::atomic_ref(s->holders).load(), pool, kWorkers - kSlots);
        // Each release lets exactly one waiting worker in.
        for (int i = kSlots; i < kWorkers; ++i) {
            kit::check(::sem_post(&s->leave), "sem_post");
            bounded_wait(&s->entered);
        }
        for (int i = 0; i < kSlots; ++i) kit::check(::sem_post(&s->leave), "sem_post");

        bool all_ok = true;
        for (pid_t kid : kids) all_ok = ch04::reap(kid) == 0 && all_ok;
        std::printf("all %d workers done, most holders at once: %d\n", kWorkers,
                    std::atomic_ref(s->most).load());
        for (sem_t* sem : {&s->pool, &s->entered, &s->leave})
            kit::check(::sem_destroy(sem), "sem_destroy");
        return all_ok ? 0 : 1;
    });
}
