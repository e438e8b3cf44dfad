// spsc_ring.cpp — one producer process and one consumer process exchange
// COUNT numbers through a lock-free ring in MAP_SHARED memory (spsc_ring.hpp):
// no lock, no semaphore, no system call per item. When the ring is full the
// producer yields the CPU and tries again; when it is empty, the consumer does.
// The consumer checks every number arrives, in order.
//
// Run:    ./spsc_ring [COUNT]     (default 1000000)
// Prints: 1000000 numbers through a 1024-slot lock-free ring: all arrived, in order
#include "spsc_ring.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/child.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[COUNT]", [](auto args) {
        if (args.size() > 1) throw kit::UsageError{"expected at most one number"};
        const std::uint64_t count =
            args.empty() ? 1'000'000 : std::uint64_t(kit::parse_long(args[0], 1, 1L << 40));

        void* p = kit::check(::mmap(nullptr, sizeof(ch05::SpscRing), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                             MAP_FAILED, "mmap");
        auto& ring = *static_cast<ch05::SpscRing*>(p);  // fresh anonymous pages: indices are 0

        kit::Child child = kit::spawn([&] {  // the producer
            for (std::uint64_t v = 1; v <= count; ++v)
                while (!ch05::try_push(ring, v)) ::sched_yield();  // full: let the consumer run
            return 0;
        });
        std::uint64_t expected = 1, value = 0;  // the consumer
        while (expected <= count) {
            if (!ch05::try_pop(ring, value)) {
                ::sched_yield();  // empty: let the producer run
                continue;
            }
            if (value != expected) {
                kit::check(::kill(child.pid(), SIGKILL),
                           "kill");  // it could wait forever on a full ring
                break;
            }
            ++expected;
        }
        const bool ok = expected == count + 1;
        if (!child.wait(std::chrono::minutes(10)).ok() && ok) return 1;
        std::printf("%llu numbers through a %zu-slot lock-free ring: %s\n",
                    static_cast<unsigned long long>(count), ch05::kSpscSlots,
                    ok ? "all arrived, in order" : "OUT OF ORDER");
        kit::check(::munmap(p, sizeof(ch05::SpscRing)), "munmap");
        return ok ? 0 : 1;
    });
}
