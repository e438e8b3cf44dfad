// lost_update_atomic.cpp — the lost update fixed with an atomic
// read-modify-write on the shared value itself: std::atomic_ref<long> over a
// long in a MAP_SHARED mapping. Two lessons:
//  1. Atomic loads and stores are not enough. With load() and store() the
//     forced interleaving (A reads, B reads, A writes, B writes) still loses
//     A's update: each access is atomic, the read-modify-write is not.
//  2. fetch_add() is one indivisible instruction (lock xadd on x86): there is
//     no gap between its read and its write to force a step into. PROCS
//     processes each add 1 ITERS times: the total is exact.
// It works between processes only because the type is lock-free: a
// non-lock-free atomic hides a lock in the library, in each process's own memory.
//
// Run:    ./lost_update_atomic [PROCS ITERS]     (default 4 50000)
// Prints: A: load() -> 5 / B: load() -> 5 / A: store(6) / B: store(7)
//         load/store: value = 7, expected 8: A's update was lost
//         fetch_add: 4 processes x 50000 increments: 200000, expected 200000
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"

namespace {
static_assert(std::atomic_ref<long>::is_always_lock_free,
              "a lock-based atomic would not be atomic across processes");

struct Shared {
    alignas(std::atomic_ref<long>::required_alignment) long value;
};
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
        std::atomic_ref<long> value(s.value);
        value.store(5);

        char step = 0;  // one byte on a pipe: "your turn"
        int a_to_b[2], b_to_a[2];
        kit::check(::pipe(a_to_b), "pipe");
        kit::check(::pipe(b_to_a), "pipe");
        kit::Child b =
            kit::spawn([&] {  // process B: value += 2, as an atomic load then an atomic store
                kit::check(::close(a_to_b[1]), "close");
                if (kit::check(::read(a_to_b[0], &step, 1), "read") != 1) return 1;
                long seen = value.load();
                std::printf("B: load() -> %ld\n", seen);
                kit::check(::write(b_to_a[1], "g", 1), "write");
                if (kit::check(::read(a_to_b[0], &step, 1), "read") != 1) return 1;
                value.store(seen + 2);
                std::printf("B: store(%ld)\n", seen + 2);
                return 0;
            });
        kit::check(::close(b_to_a[1]), "close");
        long seen = value.load();  // process A: value += 1
        std::printf("A: load() -> %ld\n", seen);
        kit::check(::write(a_to_b[1], "g", 1), "write");
        if (kit::check(::read(b_to_a[0], &step, 1), "read") != 1) return 1;
        value.store(seen + 1);
        std::printf("A: store(%ld)\n", seen + 1);
        kit::check(::write(a_to_b[1], "g", 1), "write");
        if (!b.wait().ok()) return 1;
        std::printf("load/store: value = %ld, expected 8%s\n", value.load(),
                    value.load() == 8 ? "" : ": A's update was lost");

        value.store(0);
        std::vector<kit::Child> workers;
        for (long i = 0; i < procs; ++i)
            workers.push_back(kit::spawn([&] {
                for (long n = 0; n < iters; ++n) value.fetch_add(1);
                return 0;
            }));
        for (auto& w : workers)  // bounded: a stuck worker is killed
            if (!w.wait(std::chrono::minutes(10)).ok()) return 1;
        std::printf("fetch_add: %ld processes x %ld increments: %ld, expected %ld\n", procs, iters,
                    value.load(), procs * iters);
        kit::check(::munmap(p, sizeof(Shared)), "munmap");
        return 0;
    });
}
