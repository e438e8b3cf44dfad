// Chapter 05 · Shared memory: the lost update between two processes, forced,
// and its three fixes (semaphore, process-shared mutex, atomic read-modify-write).
#include <gtest/gtest.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "shm_test_util.hpp"

using namespace ch05::test;

namespace {

struct WithSemaphore {
    sem_t lock;
    long value;
};
struct WithMutex {
    pthread_mutex_t mutex;
    long value;
};
struct WithAtomic {
    alignas(std::atomic_ref<long>::required_alignment) long value;
};

void sem_lock(sem_t& s) {
    while (::sem_wait(&s) == -1) {
        if (errno != EINTR) throw kit::SysError(errno, "sem_wait");
    }
}

// kProcs processes each run `increment` kIters times; true if all exited 0.
constexpr long kProcs = 4;
constexpr long kIters = 20000;
template <class Fn>
bool run_workers(Fn increment) {
    std::vector<kit::Child> workers;
    for (long i = 0; i < kProcs; ++i)
        workers.push_back(kit::spawn([&] {
            for (long n = 0; n < kIters; ++n) increment();
        }));
    bool ok = true;
    for (auto& w : workers) ok = w.wait().ok() && ok;
    return ok;
}

}  // namespace

// ------------------------------------------- the lost update, forced

// value = 5; A adds 1, B adds 2. A reads, B reads, A writes, B writes.
TEST(LostUpdate, ForcedInterleavingLosesAnUpdate) {
    SharedAnon<long> value;
    *value = 5;
    auto a_read = kit::make_pipe(), b_read = kit::make_pipe(), a_wrote = kit::make_pipe();
    auto b = kit::spawn([&] {
        if (!await(a_read.read)) return 2;
        long seen = *value;
        go(b_read.write);
        if (!await(a_wrote.read)) return 3;
        *value = seen + 2;
        return 0;
    });
    long seen = *value;
    go(a_read.write);
    ASSERT_TRUE(await(b_read.read));
    *value = seen + 1;
    go(a_wrote.write);
    ASSERT_TRUE(b.wait().ok());
    EXPECT_EQ(*value, 7);  // 8 was due: A's +1 is lost
}

TEST(LostUpdate, AtomicLoadAndStoreStillLoseTheUpdate) {
    SharedAnon<WithAtomic> s;
    std::atomic_ref<long> value(s->value);
    value.store(5);
    auto a_read = kit::make_pipe(), b_read = kit::make_pipe(), a_wrote = kit::make_pipe();
    auto b = kit::spawn([&] {
        if (!await(a_read.read)) return 2;
        long seen = value.load();
        go(b_read.write);
        if (!await(a_wrote.read)) return 3;
        value.store(seen + 2);
        return 0;
    });
    long seen = value.load();
    go(a_read.write);
    ASSERT_TRUE(await(b_read.read));
    value.store(seen + 1);
    go(a_wrote.write);
    ASSERT_TRUE(b.wait().ok());
    EXPECT_EQ(value.load(), 7);
}

// With the fix, B cannot read between A's read and A's write: it is refused,
// then sleeps in futex() until A is done, and reads A's result.
TEST(LostUpdate, SemaphoreMakesTheSecondReaderWait) {
    SharedAnon<WithSemaphore> s;
    ASSERT_EQ(::sem_init(&s->lock, 1, 1), 0);
    s->value = 5;
    auto a_read = kit::make_pipe(), b_refused = kit::make_pipe();
    auto b = kit::spawn([&] {
        if (!await(a_read.read)) return 2;
        if (::sem_trywait(&s->lock) == 0 || errno != EAGAIN) return 3;
        go(b_refused.write);
        sem_lock(s->lock);
        long seen = s->value;
        s->value = seen + 2;
        ::sem_post(&s->lock);
        return seen == 6 ? 0 : 4;
    });
    sem_lock(s->lock);
    long seen = s->value;
    go(a_read.write);
    ASSERT_TRUE(await(b_refused.read));
    ASSERT_TRUE(kit::wait_in_syscall(b.pid(), SYS_futex)) << "B never blocked in sem_wait";
    s->value = seen + 1;
    ::sem_post(&s->lock);
    auto status = b.wait();
    EXPECT_TRUE(status.ok()) << status.describe();
    EXPECT_EQ(s->value, 8);
    ::sem_destroy(&s->lock);
}

TEST(LostUpdate, ProcessSharedMutexMakesTheSecondReaderWait) {
    SharedAnon<WithMutex> s;
    init_shared_mutex(s->mutex);
    s->value = 5;
    auto a_read = kit::make_pipe(), b_refused = kit::make_pipe();
    auto b = kit::spawn([&] {
        if (!await(a_read.read)) return 2;
        if (::pthread_mutex_trylock(&s->mutex) != EBUSY) return 3;
        go(b_refused.write);
        kit::check_err(::pthread_mutex_lock(&s->mutex), "pthread_mutex_lock");
        long seen = s->value;
        s->value = seen + 2;
        kit::check_err(::pthread_mutex_unlock(&s->mutex), "pthread_mutex_unlock");
        return seen == 6 ? 0 : 4;
    });
    ASSERT_EQ(::pthread_mutex_lock(&s->mutex), 0);
    long seen = s->value;
    go(a_read.write);
    ASSERT_TRUE(await(b_refused.read));
    ASSERT_TRUE(kit::wait_in_syscall(b.pid(), SYS_futex)) << "B never blocked in the lock";
    s->value = seen + 1;
    ASSERT_EQ(::pthread_mutex_unlock(&s->mutex), 0);
    auto status = b.wait();
    EXPECT_TRUE(status.ok()) << status.describe();
    EXPECT_EQ(s->value, 8);
    ::pthread_mutex_destroy(&s->mutex);
}

// --------------------------------------------- many increments, exact

TEST(ExactCount, SemaphoreKeepsEveryIncrementOfFourProcesses) {
    SharedAnon<WithSemaphore> s;
    ASSERT_EQ(::sem_init(&s->lock, 1, 1), 0);
    s->value = 0;
    ASSERT_TRUE(run_workers([&] {
        sem_lock(s->lock);
        s->value = s->value + 1;
        ::sem_post(&s->lock);
    }));
    EXPECT_EQ(s->value, kProcs * kIters);
    ::sem_destroy(&s->lock);
}

TEST(ExactCount, ProcessSharedMutexKeepsEveryIncrementOfFourProcesses) {
    SharedAnon<WithMutex> s;
    init_shared_mutex(s->mutex);
    s->value = 0;
    ASSERT_TRUE(run_workers([&] {
        kit::check_err(::pthread_mutex_lock(&s->mutex), "pthread_mutex_lock");
        s->value = s->value + 1;
        kit::check_err(::pthread_mutex_unlock(&s->mutex), "pthread_mutex_unlock");
    }));
    EXPECT_EQ(s->value, kProcs * kIters);
    ::pthread_mutex_destroy(&s->mutex);
}

TEST(ExactCount, AtomicFetchAddKeepsEveryIncrementOfFourProcesses) {
    SharedAnon<WithAtomic> s;
    std::atomic_ref<long> value(s->value);
    value.store(0);
    ASSERT_TRUE(run_workers([&] { value.fetch_add(1); }));
    EXPECT_EQ(value.load(), kProcs * kIters);
}

TEST(AtomicsInSharedMemory, LongIsAlwaysLockFreeALargeStructIsNot) {
    struct Big {
        std::array<long, 8> words;
    };
    static_assert(std::atomic_ref<long>::is_always_lock_free);
    EXPECT_TRUE(std::atomic<long>::is_always_lock_free);
    // A lock-based atomic keeps its lock in each process's own memory.
    EXPECT_FALSE(std::atomic<Big>::is_always_lock_free);
}

// -------------------------------- a lock only works where both processes see it

// The notes' Go example guards a value with a sync.Mutex between goroutines:
// one process. A lock in ordinary memory is copied by fork, and each process
// then locks its own copy.
TEST(ProcessBoundary, AMutexInOrdinaryMemoryDoesNotExcludeAnotherProcess) {
    static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;  // ordinary memory
    auto locked = kit::make_pipe(), done = kit::make_pipe();
    auto child = kit::spawn([&] {
        if (!await(locked.read)) return 2;
        int rc = ::pthread_mutex_trylock(&plain);  // the parent holds "the" mutex...
        go(done.write);
        return rc;  // ...yet this succeeds: it is another mutex
    });
    ASSERT_EQ(::pthread_mutex_lock(&plain), 0);
    go(locked.write);
    ASSERT_TRUE(await(done.read));
    auto status = child.wait();
    EXPECT_TRUE(status.exited_with(0)) << status.describe();
    ASSERT_EQ(::pthread_mutex_unlock(&plain), 0);
}

// A semaphore or mutex is a convention between cooperating processes: the
// kernel does not stop a process that writes without taking it.
TEST(ProcessBoundary, TheKernelDoesNotEnforceALock) {
    SharedAnon<WithSemaphore> s;
    ASSERT_EQ(::sem_init(&s->lock, 1, 1), 0);
    s->value = 0;
    sem_lock(s->lock);  // held by the parent for the whole test
    auto intruder = kit::spawn([&] {
        s->value = 99;  // never calls sem_wait
        return 0;
    });
    ASSERT_TRUE(intruder.wait().ok());
    EXPECT_EQ(s->value, 99);
    ::sem_post(&s->lock);
    ::sem_destroy(&s->lock);
}
