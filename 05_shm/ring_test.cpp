// Chapter 05 · Shared memory: producer-consumer between processes — a ring
// with three semaphores, a ring with a robust mutex and two condition
// variables, and a lock-free single-producer/single-consumer ring.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "cond_ring.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "sem_ring.hpp"
#include "shm_test_util.hpp"
#include "spsc_ring.hpp"

using namespace ch05::test;

namespace {

using std::chrono::milliseconds;
constexpr milliseconds kShort{100};

// Runs a ring program with 3 producers of 500 items and 2 consumers; its
// parent checks the consumers' logs and prints the verdict.
kit::test::Captured run_ring_program(const char* name) {
    return kit::test::run_program({kit::test::program_path(name), "3", "2", "500"}, {},
                                  std::chrono::seconds(20));
}
constexpr const char* kAllDelivered =
    "1500 items from 3 producers through 8 slots: each exactly once, in order per producer\n";

// P(s) with a bound: 0, or -1 with errno (ETIMEDOUT when the bound passed).
int timed_p(sem_t& s, milliseconds timeout) {
    const timespec deadline = ch05::deadline_after(timeout);
    int rc;
    while ((rc = ::sem_timedwait(&s, &deadline)) == -1 && errno == EINTR) {
    }
    return rc;
}

void init_sem_ring(ch05::SemRing& r) {
    kit::check(::sem_init(&r.empty, 1, ch05::kSlots), "sem_init");
    kit::check(::sem_init(&r.full, 1, 0), "sem_init");
    kit::check(::sem_init(&r.mutex, 1, 1), "sem_init");
}

}  // namespace

// ------------------------------------------------------- three semaphores

TEST(ProducerConsumer, SemaphoreRingDeliversEveryItemOnceInOrder) {
    auto r = run_ring_program("ring_semaphores");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find(kAllDelivered), std::string::npos) << r.out;
}

// The producer's half of the protocol, P(empty) P(mutex) put V(mutex) V(full),
// with no consumer: exactly kSlots items fit, then P(empty) times out.
TEST(ProducerConsumer, SemaphoreRingMakesTheProducerWaitWhenFull) {
    auto mem = shared_anon(sizeof(ch05::SemRing));
    auto& r = mem.as<ch05::SemRing>();
    init_sem_ring(r);
    auto producer = kit::spawn([&] {
        int pushed = 0;
        while (pushed < 100 && timed_p(r.empty, kShort) == 0) {
            if (timed_p(r.mutex, kShort) != 0) return 200;
            r.slots[r.tail] = {0, pushed++};
            r.tail = (r.tail + 1) % ch05::kSlots;
            ::sem_post(&r.mutex);
            ::sem_post(&r.full);
        }
        return errno == ETIMEDOUT ? pushed : 201;
    });
    auto status = producer.wait();
    EXPECT_TRUE(status.exited_with(int(ch05::kSlots))) << status.describe();
    int full = -1, empty = -1;
    ASSERT_EQ(::sem_getvalue(&r.full, &full), 0);
    ASSERT_EQ(::sem_getvalue(&r.empty, &empty), 0);
    EXPECT_EQ(full, int(ch05::kSlots));
    EXPECT_EQ(empty, 0);
    for (int seq = 0; seq < int(ch05::kSlots); ++seq) {  // the consumer's half
        ASSERT_EQ(timed_p(r.full, kShort), 0);
        EXPECT_EQ(r.slots[r.head].seq, seq);  // first in, first out
        r.head = (r.head + 1) % ch05::kSlots;
    }
    EXPECT_EQ(::sem_trywait(&r.full), -1);  // and now empty
    EXPECT_EQ(errno, EAGAIN);
    for (sem_t* s : {&r.empty, &r.full, &r.mutex}) ::sem_destroy(s);
}

// A semaphore has no owner: when a process dies holding it, nothing gives it
// back. A bounded wait turns "everyone hangs forever" into ETIMEDOUT.
TEST(ProducerConsumer, SemaphoreHeldByADeadProcessIsNeverGivenBack) {
    auto mem = shared_anon(sizeof(ch05::SemRing));
    auto& r = mem.as<ch05::SemRing>();
    init_sem_ring(r);
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
    EXPECT_EQ(timed_p(r.mutex, kShort), -1);  // timed out instead of hanging
    EXPECT_EQ(errno, ETIMEDOUT);
    int value = -1;
    ASSERT_EQ(::sem_getvalue(&r.mutex, &value), 0);
    EXPECT_EQ(value, 0);
    for (sem_t* s : {&r.empty, &r.full, &r.mutex}) ::sem_destroy(s);
}

// ------------------------------------ robust mutex + two condition variables

// ring_condvar first kills a process holding the ring's robust mutex, then
// runs the ring: the recovery happened once and every item arrived.
TEST(ProducerConsumer, CondvarRingDeliversEveryItemOnceInOrder) {
    auto r = run_ring_program("ring_condvar");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find(kAllDelivered), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("EOWNERDEAD recoveries: 1\n"), std::string::npos) << r.out;
}

// A process takes the mutex and is killed with SIGKILL while holding it.
void kill_a_holder(pthread_mutex_t& m) {
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
}

TEST(ProducerConsumer, RobustMutexRecoversFromAHolderKilledInsideItsCriticalSection) {
    auto mem = shared_anon(sizeof(ch05::CondRing));
    auto& r = mem.as<ch05::CondRing>();
    init_shared_mutex(r.mutex, /*robust=*/true);
    ASSERT_NO_FATAL_FAILURE(kill_a_holder(r.mutex));
    ASSERT_EQ(::pthread_mutex_lock(&r.mutex), EOWNERDEAD);  // we hold it now, warned
    ASSERT_EQ(::pthread_mutex_consistent(&r.mutex), 0);
    ASSERT_EQ(::pthread_mutex_unlock(&r.mutex), 0);
    auto other = kit::spawn([&] {  // and it excludes between processes again
        if (::pthread_mutex_lock(&r.mutex) != 0) return 1;
        return ::pthread_mutex_unlock(&r.mutex) == 0 ? 0 : 2;
    });
    auto status = other.wait();
    EXPECT_TRUE(status.ok()) << status.describe();
    EXPECT_EQ(::pthread_mutex_lock(&r.mutex), 0);
    EXPECT_EQ(::pthread_mutex_unlock(&r.mutex), 0);
}

TEST(ProducerConsumer, RobustMutexUnlockedWithoutConsistentBecomesUnrecoverable) {
    auto mem = shared_anon(sizeof(ch05::CondRing));
    auto& r = mem.as<ch05::CondRing>();
    init_shared_mutex(r.mutex, /*robust=*/true);
    ASSERT_NO_FATAL_FAILURE(kill_a_holder(r.mutex));
    ASSERT_EQ(::pthread_mutex_lock(&r.mutex), EOWNERDEAD);
    ASSERT_EQ(::pthread_mutex_unlock(&r.mutex), 0);  // no pthread_mutex_consistent
    EXPECT_EQ(::pthread_mutex_lock(&r.mutex), ENOTRECOVERABLE);
}

TEST(ProducerConsumer, OrdinaryMutexHeldByADeadProcessOnlyTimesOut) {
    auto mem = shared_anon(sizeof(pthread_mutex_t));
    auto& m = mem.as<pthread_mutex_t>();
    init_shared_mutex(m);  // not robust
    ASSERT_NO_FATAL_FAILURE(kill_a_holder(m));
    const timespec deadline = ch05::deadline_after(kShort);
    EXPECT_EQ(::pthread_mutex_timedlock(&m, &deadline), ETIMEDOUT);  // forever, without the bound
}

// ------------------------------------------------- lock-free SPSC ring

TEST(SpscRing, DeliversEveryValueInOrderBetweenTwoProcesses) {
    constexpr std::uint64_t kCount = 200000;
    auto mem = shared_anon(sizeof(ch05::SpscRing));
    auto& r = mem.as<ch05::SpscRing>();
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
    auto mem = shared_anon(sizeof(ch05::SpscRing));
    auto& r = mem.as<ch05::SpscRing>();
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
