// sem_binary_lock.cpp — a binary semaphore (initial value 1) as a lock
// between processes: P (sem_wait) before the critical section, V (sem_post)
// after it. Four processes add 1 to a counter in MAP_SHARED memory 20000
// times each with a plain load-add-store; under the lock no update is lost.
//
// Run:    ./sem_binary_lock [PROCESSES] [INCREMENTS]
// Prints: "4 processes x 20000 increments = 80000, counter = 80000"
#include <semaphore.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "sem_shared.hpp"

namespace {

struct Shared {
    sem_t lock;
    long counter;
};

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PROCESSES] [INCREMENTS]", [](auto args) {
        if (args.size() > 2) throw kit::UsageError{};
        const long procs = args.size() > 0 ? kit::parse_long(args[0], 1, 64) : 4;
        const long times = args.size() > 1 ? kit::parse_long(args[1], 1, 10'000'000) : 20000;

        ch04::SharedMapping<Shared> mem;  // MAP_SHARED, zeroed, shared by the children
        Shared* shared = mem.get();
        kit::check(::sem_init(&shared->lock, 1, 1), "sem_init");

        std::fflush(stdout);
        std::vector<pid_t> kids;
        for (long i = 0; i < procs; ++i) {
            pid_t pid = kit::check(::fork(), "fork");
            if (pid == 0) {
                for (long n = 0; n < times; ++n) {
                    while (::sem_wait(&shared->lock) == -1)  // P
                        if (errno != EINTR) ::_exit(1);
                    shared->counter = shared->counter + 1;            // the critical section
                    if (::sem_post(&shared->lock) == -1) ::_exit(1);  // V
                }
                ::_exit(0);
            }
            kids.push_back(pid);
        }
        bool all_ok = true;
        for (pid_t pid : kids) all_ok = ch04::reap(pid) == 0 && all_ok;
        std::printf("%ld processes x %ld increments = %ld, counter = %ld\n", procs, times,
                    procs * times, shared->counter);
        const bool exact = shared->counter == procs * times;
        kit::check(::sem_destroy(&shared->lock), "sem_destroy");
        return all_ok && exact ? 0 : 1;
    });
}
