// Tests of chapter 04 (chapter04.*), the crash lab (进程崩溃): a holder or a
// waiter is killed with SIGKILL at the step that matters; each test asserts
// what the survivor sees and what is left in the system, then removes it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "semaphore_test_util.hpp"

using namespace std::chrono_literals;
using namespace ch04::test;

namespace {

// Whether /proc/sysvipc/sem lists the set `id` (its second column is semid).
bool sysv_set_listed(int id) {
    std::istringstream in(kit::read_text_file("/proc/sysvipc/sem").value_or(""));
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        long key = 0, semid = -1;
        if (std::sscanf(line.c_str(), "%ld %ld", &key, &semid) == 2 && semid == id) return true;
    }
    return false;
}

// Whether this process has a mapping starting at `p` (/proc/self/maps).
bool mapped_here(const void* p) {
    char start[32];
    std::snprintf(start, sizeof start, "%lx-", reinterpret_cast<unsigned long>(p));
    std::istringstream in(kit::read_text_file("/proc/self/maps").value_or(""));
    for (std::string line; std::getline(in, line);)
        if (line.rfind(start, 0) == 0) return true;
    return false;
}

// A child creates the named semaphore with value 1 and takes the unit; once it
// says so, it is killed with `sig`. How it ended.
kit::ExitStatus kill_named_holder(const std::string& name, int sig) {
    auto ready = kit::make_pipe();
    auto holder = kit::spawn([&] {
        sem_t* s = ::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 1);
        if (s == SEM_FAILED || try_wait(s) != 0) return 1;
        say(ready.write);
        ::pause();
        return 0;
    });
    if (heard(ready.read)) kit::check(::kill(holder.pid(), sig), "kill");
    return holder.wait();
}

}  // namespace

// ------------------------------------------------------------ System V sets

TEST(SysvSemCrash, HolderKilledWithoutSemUndoLeavesItTakenAndAWaiterTimesOut) {
    SemSet set({1});
    kill_while_holding([&] { return sem_op(set.id(), {{0, -1, 0}}); });  // SIGKILL
    EXPECT_EQ(set.val(0), 0) << "nobody gave the unit back";
    auto waiter = kit::spawn([&] {
        sembuf p{0, -1, 0};
        const timespec rel{0, 100'000'000};
        return ::semtimedop(set.id(), &p, 1, &rel) == -1 && errno == EAGAIN ? 0 : 1;
    });
    EXPECT_TRUE(waiter.wait().ok()) << "the bounded semtimedop did not time out with EAGAIN";
    EXPECT_TRUE(sysv_set_listed(set.id())) << "the set is still in /proc/sysvipc/sem";
    semun arg{};
    arg.val = 1;  // recovery by hand: reset the value
    ASSERT_EQ(::semctl(set.id(), 0, SETVAL, arg), 0);
    EXPECT_EQ(sem_op(set.id(), {{0, -1, IPC_NOWAIT}}), 0);
    ASSERT_EQ(::semctl(set.id(), 0, IPC_RMID), 0);
    EXPECT_FALSE(sysv_set_listed(set.id()));
}

TEST(SysvSemCrash, HolderKilledWithSemUndoIsReleasedAndWakesTheBlockedWaiter) {
    SemSet set({1});
    auto ready = kit::make_pipe();
    auto holder = kit::spawn([&] {
        if (sem_op(set.id(), {{0, -1, SEM_UNDO}}) != 0) return 1;
        say(ready.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(heard(ready.read));
    auto waiter = kit::spawn([&] { return sem_op(set.id(), {{0, -1, 0}}); });
    ASSERT_TRUE(eventually([&] { return set.ncnt(0) == 1; }));
    ASSERT_EQ(::kill(holder.pid(), SIGKILL), 0);
    ASSERT_TRUE(holder.wait().killed_by(SIGKILL));
    EXPECT_TRUE(waiter.wait().ok()) << "the kernel's undo did not wake the waiter";
    EXPECT_EQ(set.val(0), 0) << "the waiter holds the unit the kernel gave back";
    EXPECT_TRUE(sysv_set_listed(set.id())) << "the set itself stays until IPC_RMID";
}

TEST(SysvSemCrash, WaiterKilledInSemopIsNoLongerCounted) {
    SemSet set({0});
    auto waiter = kit::spawn([&] { return sem_op(set.id(), {{0, -1, 0}}); });
    ASSERT_TRUE(eventually([&] { return set.ncnt(0) == 1; }));
    ASSERT_EQ(::kill(waiter.pid(), SIGKILL), 0);
    ASSERT_TRUE(waiter.wait().killed_by(SIGKILL));
    EXPECT_EQ(set.ncnt(0), 0);
    ASSERT_EQ(sem_op(set.id(), {{0, +1, 0}}), 0);
    EXPECT_EQ(set.val(0), 1) << "the dead waiter took the post";
}

// ------------------------------------------------------------ POSIX semaphores

TEST(PosixNamedSemCrash, HolderKilledLeavesItTakenAndTheNameInDevShm) {
    const auto name = kit::unique_posix_name("crash");
    auto guard = kit::sem_unlink_guard(name);
    const std::string file = "/dev/shm/sem." + name.substr(1);
    ASSERT_TRUE(kill_named_holder(name, SIGKILL).killed_by(SIGKILL));  // holding the only unit
    EXPECT_TRUE(exists(file)) << "the name outlives the process that created it";
    sem_t* s = kit::check(::sem_open(name.c_str(), 0), SEM_FAILED, "sem_open");
    EXPECT_EQ(value_of(s), 0) << "nobody gave the unit back";
    const timespec soon = from_now(100ms);
    EXPECT_EQ(::sem_timedwait(s, &soon), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
    ::sem_close(s);
    ASSERT_EQ(::sem_unlink(name.c_str()), 0);  // recovery: remove the name
    EXPECT_FALSE(exists(file));
}

TEST(PosixNamedSemCrash, StartupCleanupUnlinksAStaleNameBeforeCreating) {
    const auto name = kit::unique_posix_name("stale");
    auto guard = kit::sem_unlink_guard(name);
    ASSERT_TRUE(kill_named_holder(name, SIGKILL).killed_by(SIGKILL));  // a previous run died
    // Without the clean-up, O_CREAT opens the stale semaphore: the initial value is ignored.
    sem_t* stale = kit::check(::sem_open(name.c_str(), O_CREAT, 0600, 1), SEM_FAILED, "sem_open");
    EXPECT_EQ(value_of(stale), 0);
    ::sem_close(stale);
    // The start-up pattern: remove the name (ENOENT is fine), then create exclusively.
    if (::sem_unlink(name.c_str()) == -1) {
        ASSERT_EQ(errno, ENOENT);
    }
    sem_t* fresh =
        kit::check(::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 1), SEM_FAILED, "sem_open");
    EXPECT_EQ(value_of(fresh), 1);
    ::sem_close(fresh);
}

TEST(PosixUnnamedSemCrash, HolderKilledLeavesItTakenUntilTheMappingGoes) {
    std::optional<SharedMemory<sem_t>> mem;
    mem.emplace();
    sem_t* sem = mem->get();
    ASSERT_EQ(::sem_init(sem, 1, 1), 0);
    kill_while_holding([&] { return try_wait(sem); });  // SIGKILL while holding it
    EXPECT_EQ(value_of(sem), 0);
    EXPECT_EQ(timed_wait(sem, 100ms), ETIMEDOUT);
    EXPECT_TRUE(mapped_here(sem));
    ASSERT_EQ(::sem_destroy(sem), 0);
    mem.reset();  // munmap: the last process unmaps it, and the semaphore is gone
    EXPECT_FALSE(mapped_here(sem));
}

TEST(PosixSemCrash, WaiterKilledInSemWaitDoesNotDisturbTheCount) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 0), 0);
    auto waiter = kit::spawn([&] { return ::sem_wait(&*sem) == 0 ? 0 : errno; });
    ASSERT_TRUE(kit::wait_until_blocked(waiter.pid(), "futex"));
    ASSERT_EQ(::kill(waiter.pid(), SIGKILL), 0);
    ASSERT_TRUE(waiter.wait().killed_by(SIGKILL));
    EXPECT_EQ(value_of(&*sem), 0);
    ASSERT_EQ(::sem_post(&*sem), 0);
    EXPECT_EQ(value_of(&*sem), 1) << "the dead waiter took the post";
    auto next = kit::spawn([&] { return try_wait(&*sem); });
    EXPECT_TRUE(next.wait().ok());
    EXPECT_EQ(try_wait(&*sem), EAGAIN);
    ::sem_destroy(&*sem);
}

// ------------------------------------------------------------ mutexes

TEST(MutexCrash, PlainMutexHolderKilledLeavesAWaiterToTimeOutWithEtimedout) {
    SharedMemory<pthread_mutex_t> m;
    auto attr = shared_attr(PTHREAD_MUTEX_NORMAL, false);
    ASSERT_EQ(::pthread_mutex_init(&*m, &attr), 0);
    auto ready = kit::make_pipe();
    auto owner = kit::spawn([&] {
        if (::pthread_mutex_lock(&*m) != 0) return 1;
        say(ready.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(heard(ready.read));
    auto waiter = kit::spawn([&] {
        const timespec deadline = from_now(1000ms);
        return ::pthread_mutex_timedlock(&*m, &deadline) == ETIMEDOUT ? 0 : 1;
    });
    ASSERT_TRUE(kit::wait_until_blocked(waiter.pid(), "futex"));
    ASSERT_EQ(::kill(owner.pid(), SIGKILL), 0);
    ASSERT_TRUE(owner.wait().killed_by(SIGKILL));
    EXPECT_TRUE(waiter.wait().ok()) << "the waiter did not time out with ETIMEDOUT";
    EXPECT_EQ(::pthread_mutex_trylock(&*m), EBUSY) << "locked by a process that is gone";
}

TEST(MutexCrash, RobustMutexHolderKilledWakesTheBlockedWaiterWithEownerdead) {
    SharedMemory<RobustMutex> r;
    auto attr = shared_attr(PTHREAD_MUTEX_NORMAL, true);
    ASSERT_EQ(::pthread_mutex_init(&r->m, &attr), 0);
    auto ready = kit::make_pipe();
    auto owner = kit::spawn([&] {
        if (::pthread_mutex_lock(&r->m) != 0) return 1;
        say(ready.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(heard(ready.read));
    auto waiter = kit::spawn([&] {
        if (::pthread_mutex_lock(&r->m) != EOWNERDEAD) return 1;
        r->data = 7;  // repair what the dead owner may have left half done
        if (::pthread_mutex_consistent(&r->m) != 0) return 2;
        return ::pthread_mutex_unlock(&r->m) == 0 ? 0 : 3;
    });
    ASSERT_TRUE(kit::wait_until_blocked(waiter.pid(), "futex"));
    ASSERT_EQ(::kill(owner.pid(), SIGKILL), 0);
    ASSERT_TRUE(owner.wait().killed_by(SIGKILL));
    auto status = waiter.wait();
    EXPECT_TRUE(status.ok()) << "the blocked waiter did not get EOWNERDEAD: " << status.describe();
    EXPECT_EQ(::pthread_mutex_lock(&r->m), 0) << "consistent made it a normal mutex";
    EXPECT_EQ(r->data, 7);
    EXPECT_EQ(::pthread_mutex_unlock(&r->m), 0);
    ::pthread_mutex_destroy(&r->m);
}

TEST(MutexCrash, RobustMutexUnlockedWithoutConsistentIsNotRecoverable) {
    SharedMemory<RobustMutex> r;
    init_and_kill_owner(*r);
    auto careless = kit::spawn([&] {
        if (::pthread_mutex_lock(&r->m) != EOWNERDEAD) return 1;
        return ::pthread_mutex_unlock(&r->m);  // no pthread_mutex_consistent
    });
    ASSERT_TRUE(careless.wait().ok());
    EXPECT_EQ(::pthread_mutex_lock(&r->m), ENOTRECOVERABLE);
    ::pthread_mutex_destroy(&r->m);
}
