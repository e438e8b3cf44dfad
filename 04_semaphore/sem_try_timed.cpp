// sem_try_timed.cpp — the three ways to wait on a POSIX semaphore whose value
// is 0: sem_trywait fails at once with EAGAIN, sem_timedwait fails with
// ETIMEDOUT when its absolute deadline passes, and sem_wait (here bounded with
// sem_clockwait on CLOCK_MONOTONIC) sleeps until another process posts.
//
// Run:    ./sem_try_timed
// Prints: "sem_trywait on 0 -> EAGAIN"
//         "sem_timedwait (deadline now+200 ms) -> ETIMEDOUT"
//         "sem_clockwait woke up: a child process posted"
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "sem_shared.hpp"

namespace {

// An absolute time `ms` milliseconds from now on `clock`.
timespec from_now(clockid_t clock, long ms) {
    timespec t{};
    kit::check(::clock_gettime(clock, &t), "clock_gettime");
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1'000'000;
    if (t.tv_nsec >= 1'000'000'000) {
        t.tv_sec += 1;
        t.tv_nsec -= 1'000'000'000;
    }
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        ch04::SharedMapping<sem_t> mem;  // shared with the child that posts
        sem_t* sem = mem.get();
        kit::check(::sem_init(sem, 1, 0), "sem_init");

        if (::sem_trywait(sem) == -1 && errno == EAGAIN)
            std::printf("sem_trywait on 0 -> EAGAIN\n");

        const timespec soon = from_now(CLOCK_REALTIME, 200);
        int rc = 0;
        while ((rc = ::sem_timedwait(sem, &soon)) == -1 && errno == EINTR) {
        }
        if (rc == -1 && errno == ETIMEDOUT)
            std::printf("sem_timedwait (deadline now+200 ms) -> ETIMEDOUT\n");

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(::sem_post(sem) == 0 ? 0 : 1);

        // A monotonic deadline is immune to someone setting the wall clock.
        const timespec later = from_now(CLOCK_MONOTONIC, 5000);
        while ((rc = ::sem_clockwait(sem, CLOCK_MONOTONIC, &later)) == -1 && errno == EINTR) {
        }
        kit::check(rc, "sem_clockwait");
        std::printf("sem_clockwait woke up: a child process posted\n");

        const int status = ch04::reap(pid);
        kit::check(::sem_destroy(sem), "sem_destroy");
        return status == 0 ? 0 : 1;
    });
}
