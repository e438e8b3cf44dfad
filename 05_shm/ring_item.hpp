// ring_item.hpp — what the chapter's two locked rings (ring_semaphores,
// ring_condvar) carry, and the run both programs share: PRODUCERS processes
// each push ITEMS numbered items, CONSUMERS processes pop and log them, and
// the parent checks the logs. The locking itself is each program's lesson.
#pragma once

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"

namespace ch05 {

inline constexpr std::size_t kSlots = 8;
inline constexpr std::chrono::milliseconds kPatience{5000};  // longer means a process died

struct Item {
    int producer;
    int seq;  // negative: "no more items" for the consumer that takes it
};

// The CLOCK_REALTIME time `timeout` from now (sem_timedwait and
// pthread_cond_timedwait take an absolute time, not a duration).
[[nodiscard]] inline timespec deadline_after(std::chrono::milliseconds timeout) {
    timespec t{};
    kit::check(::clock_gettime(CLOCK_REALTIME, &t), "clock_gettime");
    const long ns = t.tv_nsec + static_cast<long>(timeout.count() % 1000) * 1'000'000L;
    t.tv_sec += static_cast<time_t>(timeout.count() / 1000 + ns / 1'000'000'000L);
    t.tv_nsec = ns % 1'000'000'000L;
    return t;
}

// How many processes and items a run has: no arguments, or all three.
struct RingShape {
    int producers = 3, consumers = 2, items = 1000;
    [[nodiscard]] std::size_t total() const { return std::size_t(producers) * std::size_t(items); }
};
[[nodiscard]] inline RingShape ring_shape(std::span<const std::string_view> args) {
    if (args.empty()) return {};
    if (args.size() != 3) throw kit::UsageError{"expected 0 or 3 numbers"};
    return {int(kit::parse_long(args[0], 1, 16)), int(kit::parse_long(args[1], 1, 64)),
            int(kit::parse_long(args[2], 1, 100000))};
}

// One MAP_SHARED | MAP_ANONYMOUS mapping, shared with every process forked
// after it: the ring, how many items each consumer logged, and the logs
// (room for every item in each consumer's log). Fresh pages are zero.
template <class Ring>
class RingMemory {
public:
    explicit RingMemory(const RingShape& shape)
        : shape_(shape),
          size_(sizeof(Head) + std::size_t(shape.consumers) * shape.total() * sizeof(Item)),
          p_(kit::check(
              ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              MAP_FAILED, "mmap")) {}
    RingMemory(const RingMemory&) = delete;
    RingMemory& operator=(const RingMemory&) = delete;
    ~RingMemory() { ::munmap(p_, size_); }
    [[nodiscard]] Ring& ring() const { return static_cast<Head*>(p_)->ring; }
    [[nodiscard]] long& taken(int c) const { return static_cast<Head*>(p_)->taken[std::size_t(c)]; }
    [[nodiscard]] Item& log(int c, long k) const {
        auto* logs = reinterpret_cast<Item*>(static_cast<char*>(p_) + sizeof(Head));
        return logs[std::size_t(c) * shape_.total() + std::size_t(k)];
    }

private:
    struct Head {
        Ring ring;
        std::array<long, 64> taken;
    };
    RingShape shape_;
    std::size_t size_;
    void* p_;
};

// Runs the processes (push and pop are bounded: false / nothing after
// kPatience), then checks that every (producer, seq) arrived exactly once and
// that within one log each producer's seqs rise. Prints the verdict; true if good.
template <class Ring, class Push, class Pop>
[[nodiscard]] bool run_ring(const RingShape& shape, const RingMemory<Ring>& mem, Push push,
                            Pop pop) {
    std::vector<kit::Child> consumer_procs, producer_procs;
    for (int c = 0; c < shape.consumers; ++c)
        consumer_procs.push_back(kit::spawn([&, c] {
            for (;;) {
                std::optional<Item> item = pop();
                if (!item) return 3;  // nothing for kPatience: give up, do not hang
                if (item->seq < 0) return 0;
                mem.log(c, mem.taken(c)++) = *item;
            }
        }));
    for (int p = 0; p < shape.producers; ++p)
        producer_procs.push_back(kit::spawn([&, p] {
            for (int seq = 0; seq < shape.items; ++seq)
                if (!push(Item{p, seq})) return 3;
            return 0;
        }));
    const auto bound = std::chrono::minutes(10);  // each process bounds its own waits
    bool ok = true;
    for (auto& child : producer_procs) ok = child.wait(bound).ok() && ok;
    for (int c = 0; c < shape.consumers; ++c) ok = push(Item{-1, -1}) && ok;  // one "stop" each
    for (auto& child : consumer_procs) ok = child.wait(bound).ok() && ok;
    if (!ok) return false;

    std::vector<int> count(shape.total(), 0);
    bool in_order = true;
    for (int c = 0; c < shape.consumers; ++c) {
        std::printf("consumer %d took %ld items%s", c, mem.taken(c),
                    c + 1 < shape.consumers ? ", " : "\n");
        std::vector<int> last(std::size_t(shape.producers), -1);
        for (long k = 0; k < mem.taken(c); ++k) {
            const Item& it = mem.log(c, k);
            if (it.producer < 0 || it.producer >= shape.producers || it.seq < 0 ||
                it.seq >= shape.items)
                return false;
            ++count[std::size_t(it.producer) * std::size_t(shape.items) + std::size_t(it.seq)];
            in_order = in_order && it.seq > last[std::size_t(it.producer)];
            last[std::size_t(it.producer)] = it.seq;
        }
    }
    const bool once = std::all_of(count.begin(), count.end(), [](int n) { return n == 1; });
    std::printf("%zu items from %d producers through %zu slots: %s, %s\n", shape.total(),
                shape.producers, kSlots, once ? "each exactly once" : "ITEMS LOST OR DUPLICATED",
                in_order ? "in order per producer" : "OUT OF ORDER");
    return once && in_order;
}

}  // namespace ch05
