// Chapter 05 · Shared memory: producer-consumer between processes — a ring
// with three semaphores, a ring with a robust mutex and two condition
// variables, and a lock-free single-producer/single-consumer ring.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cond_ring.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"
#include "sem_ring.hpp"
#include "spsc_ring.hpp"

namespace {

using std::chrono::milliseconds;
constexpr milliseconds kPatience{5000};
constexpr milliseconds kShort{100};

// A MAP_SHARED | MAP_ANONYMOUS region of `size` bytes, unmapped at the end.
class SharedAnon {
public:
    explicit SharedAnon(std::size_t size)
        : size_(size),
          p_(kit::check(
              ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              MAP_FAILED, "mmap")) {}
    SharedAnon(const SharedAnon&) = delete;
    SharedAnon& operator=(const SharedAnon&) = delete;
    ~SharedAnon() { ::munmap(p_, size_); }
    [[nodiscard]] void* get() const { return p_; }

private:
    std::size_t size_;
    void* p_;
};

void go(const kit::Fd& fd) {
    kit::write_all(fd.get(), std::as_bytes(std::span("g", 1)));
}
[[nodiscard]] bool await(const kit::Fd& fd) {
    std::array<std::byte, 1> b{};
    return kit::wait_readable(fd.get()) && kit::read_full(fd.get(), b) == 1;
}

// Runs `producers` processes sending `items` each and `consumers` processes
// logging what they take, through `ring`; returns the verdict on the logs.
template <class Ring>
ch05::Verdict run_ring(int producers, int consumers, int items) {
    const std::size_t total = std::size_t(producers) * std::size_t(items);
    struct Header {
        Ring ring;
        std::array<long, 8> taken;
    };
    SharedAnon mem(sizeof(Header) + std::size_t(consumers) * total * sizeof(ch05::Item));
    auto& h = *static_cast<Header*>(mem.get());
    auto* logs = reinterpret_cast<ch05::Item*>(static_cast<char*>(mem.get()) + sizeof(Header));
    ch05::init(h.ring);
    std::vector<kit::Child> consumer_procs, producer_procs;
    for (int c = 0; c < consumers; ++c)
        consumer_procs.push_back(kit::spawn([&, c] {
            for (;;) {
                auto item = ch05::pop(h.ring, kPatience);
                if (!item) return 3;
                if (item->seq < 0) return 0;
                logs[std::size_t(c) * total + std::size_t(h.taken[c]++)] = *item;
            }
        }));
    for (int p = 0; p < producers; ++p)
        producer_procs.push_back(kit::spawn([&, p] {
            for (int seq = 0; seq < items; ++seq)
                if (!ch05::push(h.ring, {p, seq}, kPatience)) return 3;
            return 0;
        }));
    bool ok = true;
    for (auto& c : producer_procs) ok = c.wait().ok() && ok;
    for (int c = 0; c < consumers; ++c) ok = ch05::push(h.ring, {-1, -1}, kPatience) && ok;
    for (auto& c : consumer_procs) ok = c.wait().ok() && ok;
    if (!ok) return {false, false};
    return ch05::check_logs({logs, std::size_t(consumers) * total},
                            {h.taken.data(), std::size_t(consumers)}, total, producers, items);
}

}  // namespace

// ------------------------------------------------------- three semaphores

TEST(ProducerConsumer, SemaphoreRingDeliversEveryItemOnceInOrder) {
    auto v = run_ring<ch05::SemRing>(3, 2, 500);
    EXPECT_TRUE(v.exactly_once);
    EXPECT_TRUE(v.in_order);
}

TEST(ProducerConsumer, SemaphoreRingMakesTheProducerWaitWhenFull) {
    SharedAnon mem(sizeof(ch05::SemRing));
    auto& r = *static_cast<ch05::SemRing*>(mem.get());
    ch05::init(r);
    auto producer = kit::spawn([&] {  // no consumer yet: how many fit?
        int pushed = 0;
        while (pushed < 100 && ch05::push(r, {0, pushed}, kShort)) ++pushed;
        return pushed;
    });
    auto status = producer.wait();
    EXPECT_TRUE(status.exited_with(int(ch05::kSlots))) << status.describe();
    int full = -1, empty = -1;
    ASSERT_EQ(::sem_getvalue(&r.full, &full), 0);
    ASSERT_EQ(::sem_getvalue(&r.empty, &empty), 0);
    EXPECT_EQ(full, int(ch05::kSlots));
    EXPECT_EQ(empty, 0);
    for (int seq = 0; seq < int(ch05::kSlots); ++seq) {
        auto item = ch05::pop(r, kShort);
        ASSERT_TRUE(item);
        EXPECT_EQ(item->seq, seq);  // first in, first out
    }
    EXPECT_FALSE(ch05::pop(r, milliseconds(0)));  // and now empty
    ch05::destroy(r);
}

// A semaphore has no owner: when a process dies holding it, nothing gives it
// back. A bounded wait turns "everyone hangs forever" into ETIMEDOUT.
TEST(ProducerConsumer, SemaphoreHeldByADeadProcessIsNeverGivenBack) {
    SharedAnon mem(sizeof(ch05::SemRing));
    auto& r = *static_cast<ch05::SemRing*>(mem.get());
    ch05::init(r);
    auto taken = kit::make_pipe();
    auto holder = kit::spawn([&] {
        if (::sem_wait(&r.mutex) != 0) return 2;
        go(taken.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(await(taken.read));
    ASSERT_EQ(::kill(holder.pid(), SIGKILL), 0);
    EXPECT_TRUE(holder.wait().killed_by(SIGKILL));
    EXPECT_FALSE(ch05::push(r, {0, 0}, kShort));  // timed out instead of hanging
    int value = -1;
    ASSERT_EQ(::sem_getvalue(&r.mutex, &value), 0);
    EXPECT_EQ(value, 0);
    ch05::destroy(r);
}

// ------------------------------------ robust mutex + two condition variables

TEST(ProducerConsumer, CondvarRingDeliversEveryItemOnceInOrder) {
    auto v = run_ring<ch05::CondRing>(3, 2, 500);
    EXPECT_TRUE(v.exactly_once);
    EXPECT_TRUE(v.in_order);
}

// A process takes the ring's mutex and is killed with SIGKILL while holding it.
void kill_a_holder(ch05::CondRing& r) {
    auto locked = kit::make_pipe();
    auto holder = kit::spawn([&] {
        kit::check_err(::pthread_mutex_lock(&r.mutex), "pthread_mutex_lock");
        go(locked.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(await(locked.read));
    ASSERT_EQ(::kill(holder.pid(), SIGKILL), 0);
    EXPECT_TRUE(holder.wait().killed_by(SIGKILL));
}

TEST(ProducerConsumer, RobustMutexRecoversFromAHolderKilledInsideItsCriticalSection) {
    SharedAnon mem(sizeof(ch05::CondRing));
    auto& r = *static_cast<ch05::CondRing*>(mem.get());
    ch05::init(r);
    ASSERT_NO_FATAL_FAILURE(kill_a_holder(r));
    ASSERT_EQ(::pthread_mutex_lock(&r.mutex), EOWNERDEAD);  // we hold it now, warned
    ASSERT_EQ(::pthread_mutex_consistent(&r.mutex), 0);
    ASSERT_EQ(::pthread_mutex_unlock(&r.mutex), 0);
    auto consumer = kit::spawn([&] {  // and the ring works between processes again
        auto item = ch05::pop(r, kPatience);
        return item && item->seq == 42 ? 0 : 1;
    });
    EXPECT_TRUE(ch05::push(r, {0, 42}, kPatience));
    EXPECT_TRUE(consumer.wait().ok());
}

TEST(ProducerConsumer, RobustMutexUnlockedWithoutConsistentBecomesUnrecoverable) {
    SharedAnon mem(sizeof(ch05::CondRing));
    auto& r = *static_cast<ch05::CondRing*>(mem.get());
    ch05::init(r);
    ASSERT_NO_FATAL_FAILURE(kill_a_holder(r));
    ASSERT_EQ(::pthread_mutex_lock(&r.mutex), EOWNERDEAD);
    ASSERT_EQ(::pthread_mutex_unlock(&r.mutex), 0);  // no pthread_mutex_consistent
    EXPECT_EQ(::pthread_mutex_lock(&r.mutex), ENOTRECOVERABLE);
}

TEST(ProducerConsumer, OrdinaryMutexHeldByADeadProcessOnlyTimesOut) {
    SharedAnon mem(sizeof(pthread_mutex_t));
    auto& m = *static_cast<pthread_mutex_t*>(mem.get());
    pthread_mutexattr_t attr;
    ASSERT_EQ(::pthread_mutexattr_init(&attr), 0);
    ASSERT_EQ(::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), 0);
    ASSERT_EQ(::pthread_mutex_init(&m, &attr), 0);  // not robust
    auto locked = kit::make_pipe();
    auto holder = kit::spawn([&] {
        kit::check_err(::pthread_mutex_lock(&m), "pthread_mutex_lock");
        go(locked.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(await(locked.read));
    ASSERT_EQ(::kill(holder.pid(), SIGKILL), 0);
    EXPECT_TRUE(holder.wait().killed_by(SIGKILL));
    const timespec deadline = ch05::deadline_after(kShort);
    EXPECT_EQ(::pthread_mutex_timedlock(&m, &deadline), ETIMEDOUT);  // forever, without the bound
}

// ------------------------------------------------- lock-free SPSC ring

TEST(SpscRing, DeliversEveryValueInOrderBetweenTwoProcesses) {
    constexpr std::uint64_t kCount = 200000;
    SharedAnon mem(sizeof(ch05::SpscRing));
    auto& r = *static_cast<ch05::SpscRing*>(mem.get());
    auto producer = kit::spawn([&] {
        for (std::uint64_t v = 1; v <= kCount; ++v)
            while (!ch05::try_push(r, v)) ::sched_yield();
    });
    std::uint64_t expected = 1, value = 0;
    const auto end = std::chrono::steady_clock::now() + kit::kDeadline;
    while (expected <= kCount && std::chrono::steady_clock::now() < end) {
        if (!ch05::try_pop(r, value)) {
            ::sched_yield();
            continue;
        }
        if (value != expected) break;
        ++expected;
    }
    EXPECT_EQ(expected, kCount + 1) << "got " << value;
    EXPECT_TRUE(producer.wait().ok());
}

TEST(SpscRing, RefusesWhenFullAndWhenEmpty) {
    SharedAnon mem(sizeof(ch05::SpscRing));
    auto& r = *static_cast<ch05::SpscRing*>(mem.get());
    std::uint64_t value = 0;
    EXPECT_FALSE(ch05::try_pop(r, value));
    auto producer = kit::spawn([&] {
        std::size_t pushed = 0;
        while (pushed < 2 * ch05::kSpscSlots && ch05::try_push(r, pushed)) ++pushed;
        return pushed == ch05::kSpscSlots ? 0 : 1;
    });
    EXPECT_TRUE(producer.wait().ok());
    for (std::uint64_t v = 0; v < ch05::kSpscSlots; ++v) {
        ASSERT_TRUE(ch05::try_pop(r, value));
        EXPECT_EQ(value, v);
    }
    EXPECT_FALSE(ch05::try_pop(r, value));
}

TEST(SpscRing, IndicesAreLockFreeAndOnSeparateCacheLines) {
    EXPECT_TRUE(std::atomic_ref<std::size_t>::is_always_lock_free);
    EXPECT_GE(offsetof(ch05::SpscRing, head) - offsetof(ch05::SpscRing, tail), 64u);
    EXPECT_GE(offsetof(ch05::SpscRing, slots) - offsetof(ch05::SpscRing, head), 64u);
}
