// sem_ordering.cpp — a semaphore initialised to 0 orders two processes:
// "B runs after A". B is started first and is already asleep in sem_wait
// before A even exists; A does its step and posts; only then does B run.
// Each step appends its letter to a log in shared memory.
//
// Run:    ./sem_ordering
// Prints: "B started first and sleeps in sem_wait"
//         "order recorded: AB"
#include <semaphore.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "sem_shared.hpp"

namespace {

struct Shared {
    sem_t a_done;  // 0: "A has not happened yet"
    int length;
    char log[8];
};

void record(Shared* s, char step) {
    const int at = std::atomic_ref(s->length).fetch_add(1);
    if (at < int(sizeof s->log) - 1) s->log[at] = step;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        ch04::SharedMapping<Shared> mem;  // shared with A and B
        Shared* s = mem.get();
        kit::check(::sem_init(&s->a_done, 1, 0), "sem_init");

        std::fflush(stdout);
        pid_t b = kit::check(::fork(), "fork");
        if (b == 0) {
            ::alarm(10);
            while (::sem_wait(&s->a_done) == -1)  // P: sleeps until A posts
                if (errno != EINTR) ::_exit(1);
            record(s, 'B');
            ::_exit(0);
        }
        if (!kit::wait_until_blocked(b, "futex"))
            throw kit::SysError(ETIMEDOUT, "waiting for B to block");
        std::printf("B started first and sleeps in sem_wait\n");
        std::fflush(stdout);

        pid_t a = kit::check(::fork(), "fork");
        if (a == 0) {
            record(s, 'A');
            ::_exit(::sem_post(&s->a_done) == 0 ? 0 : 1);  // V: "A is done"
        }
        const int status_a = ch04::reap(a), status_b = ch04::reap(b);
        std::printf("order recorded: %.*s\n", std::atomic_ref(s->length).load(), s->log);
        kit::check(::sem_destroy(&s->a_done), "sem_destroy");
        return status_a == 0 && status_b == 0 ? 0 : 1;
    });
}
