// lost_update_mutex.cpp — the lost update fixed with a pthread mutex that
// lives in the MAP_SHARED mapping beside the value. The attribute
// PTHREAD_PROCESS_SHARED is what makes a mutex work between processes; the
// default (PTHREAD_PROCESS_PRIVATE) promises nothing outside one process.
//  1. While A holds the mutex, B's pthread_mutex_trylock returns EBUSY; B
//     waits and reads A's 6, so the result is 8.
//  2. PROCS processes each add 1 ITERS times: the total is exact.
//
// Run:    ./lost_update_mutex [PROCS ITERS]     (default 4 50000)
// Prints: A read 5 (holding the mutex)
//         B: pthread_mutex_trylock -> EBUSY, so B waits
//         A wrote 6 and unlocked
//         B read 6, wrote 8
//         value = 8, expected 8
//         4 processes x 50000 increments: 200000, expected 200000
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"

namespace {
struct Shared {
    pthread_mutex_t mutex;
    long value;
};

void lock(Shared& s) { kit::check_err(::pthread_mutex_lock(&s.mutex), "pthread_mutex_lock"); }
void unlock(Shared& s) { kit::check_err(::pthread_mutex_unlock(&s.mutex), "pthread_mutex_unlock"); }
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PROCS ITERS]", [](auto args) {
        if (args.size() != 0 && args.size() != 2) throw kit::UsageError{"expected 0 or 2 numbers"};
        const long procs = args.empty() ? 4 : kit::parse_long(args[0], 1, 64);
        const long iters = args.empty() ? 50000 : kit::parse_long(args[1], 1, 10'000'000);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);

        void* p = kit::check(::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                             MAP_FAILED, "mmap");
        auto& s = *static_cast<Shared*>(p);
        pthread_mutexattr_t attr;
        kit::check_err(::pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        kit::check_err(::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                       "pthread_mutexattr_setpshared");
        kit::check_err(::pthread_mutex_init(&s.mutex, &attr), "pthread_mutex_init");
        kit::check_err(::pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy");
        s.value = 5;

        char step = 0;  // one byte on a pipe: "your turn"
        int a_to_b[2], b_to_a[2];
        kit::check(::pipe(a_to_b), "pipe");
        kit::check(::pipe(b_to_a), "pipe");
        kit::Child b = kit::spawn([&] {  // process B: value += 2
            kit::check(::close(a_to_b[1]), "close");
            // wait until A holds the mutex and has read
            if (kit::check(::read(a_to_b[0], &step, 1), "read") != 1) return 1;
            if (::pthread_mutex_trylock(&s.mutex) != EBUSY) return 1;
            std::printf("B: pthread_mutex_trylock -> EBUSY, so B waits\n");
            kit::check(::write(b_to_a[1], "g", 1), "write");
            lock(s);
            long seen = s.value;
            s.value = seen + 2;
            std::printf("B read %ld, wrote %ld\n", seen, seen + 2);
            unlock(s);
            return 0;
        });
        kit::check(::close(b_to_a[1]), "close");
        lock(s);  // process A: value += 1
        long seen = s.value;
        std::printf("A read %ld (holding the mutex)\n", seen);
        kit::check(::write(a_to_b[1], "g", 1), "write");
        // wait until B tried to lock and was refused
        if (kit::check(::read(b_to_a[0], &step, 1), "read") != 1) return 1;
        s.value = seen + 1;
        std::printf("A wrote %ld and unlocked\n", seen + 1);
        unlock(s);
        if (!b.wait().ok()) return 1;
        std::printf("value = %ld, expected 8\n", s.value);

        s.value = 0;
        std::vector<kit::Child> workers;
        for (long i = 0; i < procs; ++i)
            workers.push_back(kit::spawn([&] {
                for (long n = 0; n < iters; ++n) {
                    lock(s);
                    s.value = s.value + 1;
                    unlock(s);
                }
                return 0;
            }));
        for (auto& w : workers)  // bounded: a stuck worker is killed
            if (!w.wait(std::chrono::minutes(10)).ok()) return 1;
        std::printf("%ld processes x %ld increments: %ld, expected %ld\n", procs, iters, s.value,
                    procs * iters);
        kit::check_err(::pthread_mutex_destroy(&s.mutex), "pthread_mutex_destroy");
        kit::check(::munmap(p, sizeof(Shared)), "munmap");
        return 0;
    });
}
