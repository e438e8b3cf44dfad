// lost_update_semaphore.cpp — the lost update fixed with a semaphore. A
// sem_t initialised with pshared=1 lives in the same MAP_SHARED mapping as
// the value; read → compute → write happens between sem_wait and sem_post.
//  1. The interleaving that lost an update in lost_update is now impossible:
//     while A holds the semaphore, B's sem_trywait fails with EAGAIN; B waits
//     and reads A's 6, so the result is 8.
//  2. PROCS processes each add 1 ITERS times: the total is exact.
//
// Run:    ./lost_update_semaphore [PROCS ITERS]     (default 4 50000)
// Prints: A read 5 (holding the semaphore)
//         B: sem_trywait -> EAGAIN, so B waits
//         A wrote 6 and posted
//         B read 6, wrote 8
//         value = 8, expected 8
//         4 processes x 50000 increments: 200000, expected 200000
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"

namespace {
struct Shared {
    sem_t lock;  // a binary semaphore: 1 = free
    long value;
};

void lock(Shared& s) {
    while (::sem_wait(&s.lock) == -1) {
        if (errno != EINTR) throw kit::SysError(errno, "sem_wait");
    }
}
void unlock(Shared& s) { kit::check(::sem_post(&s.lock), "sem_post"); }
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
        kit::check(::sem_init(&s.lock, /*pshared=*/1, /*value=*/1), "sem_init");
        s.value = 5;

        char step = 0;  // one byte on a pipe: "your turn"
        int a_to_b[2], b_to_a[2];
        kit::check(::pipe(a_to_b), "pipe");
        kit::check(::pipe(b_to_a), "pipe");
        kit::Child b = kit::spawn([&] {  // process B: value += 2
            kit::check(::close(a_to_b[1]), "close");
            // wait until A holds the semaphore and has read
            if (kit::check(::read(a_to_b[0], &step, 1), "read") != 1) return 1;
            if (::sem_trywait(&s.lock) == 0 || errno != EAGAIN) return 1;
            std::printf("B: sem_trywait -> EAGAIN, so B waits\n");
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
        std::printf("A read %ld (holding the semaphore)\n", seen);
        kit::check(::write(a_to_b[1], "g", 1), "write");
        // wait until B tried to read and was refused
        if (kit::check(::read(b_to_a[0], &step, 1), "read") != 1) return 1;
        s.value = seen + 1;
        std::printf("A wrote %ld and posted\n", seen + 1);
        unlock(s);
        if (!b.wait().ok()) return 1;
        std::printf("value = %ld, expected 8\n", s.value);

        s.value = 0;
        std::vector<kit::Child> workers;
        for (long i = 0; i < procs; ++i)
            workers.push_back(kit::spawn([&] {
                for (long n = 0; n < iters; ++n) {
                    lock(s);
                    s.value = s.value + 1;  // read → compute → write, never interleaved
                    unlock(s);
                }
                return 0;
            }));
        for (auto& w : workers)  // bounded: a stuck worker is killed
            if (!w.wait(std::chrono::minutes(10)).ok()) return 1;
        std::printf("%ld processes x %ld increments: %ld, expected %ld\n", procs, iters, s.value,
                    procs * iters);
        kit::check(::sem_destroy(&s.lock), "sem_destroy");
        kit::check(::munmap(p, sizeof(Shared)), "munmap");
        return 0;
    });
}
