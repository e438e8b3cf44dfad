// ring_semaphores.cpp — producer-consumer between processes: a ring of 8
// slots in MAP_SHARED memory, three semaphores (empty / full / mutex, see
// sem_ring.hpp). PRODUCERS processes each send ITEMS numbered items; CONSUMERS
// processes take them and log what they took; the parent checks that every
// item arrived exactly once and, per producer, in the order it was sent.
// Producers block when the ring is full, consumers when it is empty.
//
// Run:    ./ring_semaphores [PRODUCERS CONSUMERS ITEMS]     (default 3 2 1000)
// Prints: consumer 0 took <n> items, consumer 1 took <m> items
//         3000 items from 3 producers through 8 slots: each exactly once, in order per producer
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <span>
#include <vector>

#include "kit/check.hpp"
#include "sem_ring.hpp"
#include "shm_steps.hpp"

namespace {
constexpr std::chrono::milliseconds kPatience{5000};  // longer means a process died

struct Shared {
    ch05::SemRing ring;
    std::array<long, 64> taken;  // per consumer: how many items it logged
};
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PRODUCERS CONSUMERS ITEMS]", [](auto args) {
        if (!args.empty() && args.size() != 3) throw kit::UsageError{"expected 0 or 3 numbers"};
        const int producers = args.empty() ? 3 : int(kit::parse_long(args[0], 1, 16));
        const int consumers = args.empty() ? 2 : int(kit::parse_long(args[1], 1, 64));
        const int items = args.empty() ? 1000 : int(kit::parse_long(args[2], 1, 100000));
        const std::size_t total = std::size_t(producers) * std::size_t(items);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);

        // The ring, then one log of up to `total` items per consumer.
        const std::size_t size = sizeof(Shared) + consumers * total * sizeof(ch05::Item);
        void* p = kit::check(
            mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
            MAP_FAILED, "mmap");
        auto& s = *static_cast<Shared*>(p);
        auto* logs = reinterpret_cast<ch05::Item*>(static_cast<char*>(p) + sizeof(Shared));
        ch05::init(s.ring);

        std::vector<pid_t> producer_pids, consumer_pids;
        std::fflush(stdout);
        for (int c = 0; c < consumers; ++c) {
            pid_t pid = kit::check(fork(), "fork");
            if (pid == 0) {
                ch05::run_child([&] {
                    std::span<ch05::Item> log(logs + c * total, total);
                    for (;;) {
                        auto item = ch05::pop(s.ring, kPatience);
                        if (!item) return 3;  // nobody produced for 5 s: give up, do not hang
                        if (item->seq < 0) return 0;
                        log[s.taken[c]++] = *item;
                    }
                });
            }
            consumer_pids.push_back(pid);
        }
        for (int pr = 0; pr < producers; ++pr) {
            pid_t pid = kit::check(fork(), "fork");
            if (pid == 0) {
                ch05::run_child([&] {
                    for (int seq = 0; seq < items; ++seq)
                        if (!ch05::push(s.ring, {pr, seq}, kPatience)) return 3;
                    return 0;
                });
            }
            producer_pids.push_back(pid);
        }
        bool ok = true;
        for (pid_t pid : producer_pids) ok = ch05::reap_ok(pid) && ok;
        for (int c = 0; c < consumers; ++c)  // one "stop" per consumer, after every item
            ok = ch05::push(s.ring, {-1, -1}, kPatience) && ok;
        for (pid_t pid : consumer_pids) ok = ch05::reap_ok(pid) && ok;
        if (!ok) return 1;

        for (int c = 0; c < consumers; ++c)
            std::printf("consumer %d took %ld items%s", c, s.taken[c],
                        c + 1 < consumers ? ", " : "\n");
        auto v =
            ch05::check_logs({logs, consumers * total}, {s.taken.data(), std::size_t(consumers)},
                             total, producers, items);
        std::printf("%zu items from %d producers through %zu slots: %s, %s\n", total, producers,
                    ch05::kSlots, v.exactly_once ? "each exactly once" : "ITEMS LOST OR DUPLICATED",
                    v.in_order ? "in order per producer" : "OUT OF ORDER");
        ch05::destroy(s.ring);
        kit::check(munmap(p, size), "munmap");
        return v.exactly_once && v.in_order ? 0 : 1;
    });
}
