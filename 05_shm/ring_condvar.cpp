// ring_condvar.cpp — producer-consumer between processes with a
// process-shared, robust mutex and two condition variables (cond_ring.hpp).
// First a process locks the mutex and is killed with SIGKILL while holding
// it: with an ordinary mutex everyone would now wait forever; with a robust
// one the next locker gets EOWNERDEAD, calls pthread_mutex_consistent, and
// the ring goes on. Then PRODUCERS send ITEMS each to CONSUMERS; the parent
// checks every item arrived exactly once and in order per producer.
//
// Run:    ./ring_condvar [PRODUCERS CONSUMERS ITEMS]     (default 3 2 1000)
// Prints: process <pid> killed by SIGKILL while holding the mutex
//         consumer 0 took <n> items, consumer 1 took <m> items
//         3000 items from 3 producers through 8 slots: each exactly once, in order per producer
//         EOWNERDEAD recoveries: 1
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "cond_ring.hpp"
#include "kit/check.hpp"
#include "shm_steps.hpp"

namespace {
constexpr std::chrono::milliseconds kPatience{5000};

struct Shared {
    ch05::CondRing ring;
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

        const std::size_t size = sizeof(Shared) + consumers * total * sizeof(ch05::Item);
        void* p = kit::check(
            mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
            MAP_FAILED, "mmap");
        auto& s = *static_cast<Shared*>(p);
        auto* logs = reinterpret_cast<ch05::Item*>(static_cast<char*>(p) + sizeof(Shared));
        ch05::init(s.ring);

        // A process that dies inside its critical section.
        int locked[2];
        kit::check(pipe(locked), "pipe");
        std::fflush(stdout);
        pid_t doomed = kit::check(fork(), "fork");
        if (doomed == 0) {
            ch05::run_child([&] {
                kit::check_err(pthread_mutex_lock(&s.ring.mutex), "pthread_mutex_lock");
                ch05::send_go(locked[1]);
                pause();  // holds the mutex until killed
                return 0;
            });
        }
        ch05::wait_go(locked[0]);
        kit::check(kill(doomed, SIGKILL), "kill");
        int ws = 0;
        kit::check(waitpid(doomed, &ws, 0), "waitpid");
        if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL) return 1;
        std::printf("process %d killed by SIGKILL while holding the mutex\n", int(doomed));

        std::vector<pid_t> pids;
        for (int c = 0; c < consumers; ++c) {
            pid_t pid = kit::check(fork(), "fork");
            if (pid == 0) {
                ch05::run_child([&] {
                    for (;;) {
                        auto item = ch05::pop(s.ring, kPatience);
                        if (!item) return 3;
                        if (item->seq < 0) return 0;
                        logs[c * total + s.taken[c]++] = *item;
                    }
                });
            }
            pids.push_back(pid);
        }
        std::vector<pid_t> producer_pids;
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
        for (int c = 0; c < consumers; ++c) ok = ch05::push(s.ring, {-1, -1}, kPatience) && ok;
        for (pid_t pid : pids) ok = ch05::reap_ok(pid) && ok;
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
        const int recoveries = s.ring.recoveries;
        std::printf("EOWNERDEAD recoveries: %d\n", recoveries);
        kit::check(munmap(p, size), "munmap");
        return v.exactly_once && v.in_order && recoveries == 1 ? 0 : 1;
    });
}
