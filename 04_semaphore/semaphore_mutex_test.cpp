// Tests of chapter 04 (chapter04.*), semaphore versus mutex: ownership, and
// process-shared robust mutexes whose owner is killed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "semaphore_test_util.hpp"

using namespace std::chrono_literals;
using namespace ch04::test;

// Read by ThreadSanitizer, when the tests run under it: one test unlocks
// another process's mutex on purpose, to show that the mutex refuses.
extern "C" const char* __tsan_default_suppressions() {
    return "mutex:ErrorcheckMutexRefusesUnlockByANonOwner\n";
}

// ------------------------------------------------------- semaphore vs mutex

TEST(Ownership, AnyProcessMayPostASemaphoreItNeverTook) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 1), 0);
    auto taker = kit::spawn([&] { return try_wait(&*sem); });
    ASSERT_TRUE(taker.wait().ok());  // took it and ended without V
    ASSERT_EQ(value_of(&*sem), 0);
    auto stranger = kit::spawn([&] { return ::sem_post(&*sem); });
    ASSERT_TRUE(stranger.wait().ok());
    EXPECT_EQ(value_of(&*sem), 1);
    ::sem_destroy(&*sem);
}

namespace {

// Another process locks the mutex, says so on `locked`, and unlocks it (its
// exit status is unlock's result) once told on `done`.
kit::Child lock_in_a_child(pthread_mutex_t* m, kit::Pipe& locked, kit::Pipe& done) {
    return kit::spawn([&] {
        kit::check_err(::pthread_mutex_lock(m), "pthread_mutex_lock");
        say(locked.write);
        if (!heard(done.read)) return 1;
        return ::pthread_mutex_unlock(m);
    });
}

}  // namespace

TEST(Ownership, ProcessSharedMutexKeepsAnotherProcessOut) {
    SharedMemory<pthread_mutex_t> m;
    auto attr = shared_attr(PTHREAD_MUTEX_NORMAL, false);
    ASSERT_EQ(::pthread_mutex_init(&*m, &attr), 0);
    auto locked = kit::make_pipe(), done = kit::make_pipe();
    auto owner = lock_in_a_child(&*m, locked, done);
    ASSERT_TRUE(heard(locked.read));
    EXPECT_EQ(::pthread_mutex_trylock(&*m), EBUSY);
    say(done.write);
    EXPECT_TRUE(owner.wait().ok());
    EXPECT_EQ(::pthread_mutex_trylock(&*m), 0);
    ::pthread_mutex_unlock(&*m);
    ::pthread_mutex_destroy(&*m);
}

TEST(Ownership, ErrorcheckMutexRefusesUnlockByANonOwner) {
    SharedMemory<pthread_mutex_t> m;
    auto attr = shared_attr(PTHREAD_MUTEX_ERRORCHECK, false);
    ASSERT_EQ(::pthread_mutex_init(&*m, &attr), 0);
    auto locked = kit::make_pipe(), done = kit::make_pipe();
    auto owner = lock_in_a_child(&*m, locked, done);
    ASSERT_TRUE(heard(locked.read));
    EXPECT_EQ(::pthread_mutex_unlock(&*m), EPERM);
    say(done.write);
    EXPECT_TRUE(owner.wait().ok()) << "the owner could not unlock its own mutex";
    ::pthread_mutex_destroy(&*m);
}

TEST(Ownership, PlainSharedMutexOfAKilledOwnerStaysLocked) {
    SharedMemory<pthread_mutex_t> m;
    auto attr = shared_attr(PTHREAD_MUTEX_NORMAL, false);
    ASSERT_EQ(::pthread_mutex_init(&*m, &attr), 0);
    kill_owner(&*m);
    const timespec soon = from_now(100ms);
    EXPECT_EQ(::pthread_mutex_timedlock(&*m, &soon), ETIMEDOUT);
    EXPECT_EQ(::pthread_mutex_trylock(&*m), EBUSY);
}

TEST(RobustMutex, NextLockerGetsEownerdeadAfterTheOwnerIsKilled) {
    SharedMemory<RobustMutex> r;
    init_and_kill_owner(*r);
    auto next = kit::spawn([&] { return ::pthread_mutex_lock(&r->m) == EOWNERDEAD ? 0 : 1; });
    EXPECT_TRUE(next.wait().ok()) << "another process did not get EOWNERDEAD";
}

TEST(RobustMutex, ConsistentMakesTheMutexUsableAgain) {
    SharedMemory<RobustMutex> r;
    init_and_kill_owner(*r);
    auto repairer = kit::spawn([&] {
        if (::pthread_mutex_lock(&r->m) != EOWNERDEAD) return 1;
        r->data = 42;  // the state the mutex guards is repaired first
        if (::pthread_mutex_consistent(&r->m) != 0) return 2;
        return ::pthread_mutex_unlock(&r->m) == 0 ? 0 : 3;
    });
    ASSERT_TRUE(repairer.wait().ok());
    EXPECT_EQ(::pthread_mutex_lock(&r->m), 0);
    EXPECT_EQ(r->data, 42);
    EXPECT_EQ(::pthread_mutex_unlock(&r->m), 0);
    EXPECT_EQ(::pthread_mutex_consistent(&r->m), EINVAL) << "it is not inconsistent any more";
    ::pthread_mutex_destroy(&r->m);
}

TEST(RobustMutex, WithoutConsistentTheMutexBecomesNotRecoverable) {
    SharedMemory<RobustMutex> r;
    init_and_kill_owner(*r);
    auto careless = kit::spawn([&] {
        if (::pthread_mutex_lock(&r->m) != EOWNERDEAD) return 1;
        return ::pthread_mutex_unlock(&r->m) == 0 ? 0 : 2;  // no pthread_mutex_consistent
    });
    ASSERT_TRUE(careless.wait().ok());
    EXPECT_EQ(::pthread_mutex_lock(&r->m), ENOTRECOVERABLE);
    EXPECT_EQ(::pthread_mutex_trylock(&r->m), ENOTRECOVERABLE);
    ::pthread_mutex_destroy(&r->m);
}
