// Tests of chapter 04 (chapter04.*), System V semaphore sets: the value that
// never goes negative, all-or-nothing semop, limits, removal, SEM_UNDO.
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

// --------------------------------------------------- the value is never negative

TEST(SemValue, SysvValueStaysZeroWhileSemncntCountsTheWaiters) {
    SemSet set({0});
    auto a = kit::spawn([&] { return sem_op(set.id(), {{0, -1, 0}}); });
    auto b = kit::spawn([&] { return sem_op(set.id(), {{0, -1, 0}}); });
    ASSERT_TRUE(eventually([&] { return set.ncnt(0) == 2; }));
    EXPECT_EQ(set.val(0), 0);
    ASSERT_EQ(sem_op(set.id(), {{0, +2, 0}}), 0);
    EXPECT_TRUE(a.wait().ok());
    EXPECT_TRUE(b.wait().ok());
    EXPECT_EQ(set.val(0), 0);
    EXPECT_EQ(set.ncnt(0), 0);
}

TEST(SemValue, PosixGetvalueIsZeroWhileAProcessIsBlocked) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 0), 0);
    auto child = kit::spawn([&] { return timed_wait(&*sem); });
    ASSERT_TRUE(kit::wait_until_blocked(child.pid(), "futex"));
    EXPECT_EQ(value_of(&*sem), 0);
    ASSERT_EQ(::sem_post(&*sem), 0);
    EXPECT_TRUE(child.wait().ok());
    EXPECT_EQ(value_of(&*sem), 0);
    ::sem_destroy(&*sem);
}

// ------------------------------------------------------------ System V sets

TEST(SysvSet, NewSetStartsAtZeroOnLinuxWithNoOperationYet) {
    int id = kit::check(::semget(IPC_PRIVATE, 3, IPC_CREAT | 0600), "semget");
    auto guard = kit::sem_guard(id);
    for (int n = 0; n < 3; ++n) EXPECT_EQ(::semctl(id, n, GETVAL), 0);
    semid_ds ds{};
    semun arg{};
    arg.buf = &ds;
    ASSERT_EQ(::semctl(id, 0, IPC_STAT, arg), 0);
    EXPECT_EQ(ds.sem_nsems, 3u);
    EXPECT_EQ(ds.sem_otime, 0) << "sem_otime stays 0 until the first semop";
    arg.val = 1;  // initialising with semctl is not an operation: sem_otime stays 0
    ASSERT_EQ(::semctl(id, 0, SETVAL, arg), 0);
    arg.buf = &ds;
    ASSERT_EQ(::semctl(id, 0, IPC_STAT, arg), 0);
    EXPECT_EQ(ds.sem_otime, 0) << "SETVAL set sem_otime";
    ASSERT_EQ(sem_op(id, {{0, +1, 0}}), 0);
    ASSERT_EQ(::semctl(id, 0, IPC_STAT, arg), 0);
    EXPECT_NE(ds.sem_otime, 0);
}

TEST(SysvSet, SeveralOperationsApplyAllOrNothing) {
    SemSet set({1, 0});
    auto child = kit::spawn([&] {
        // Semaphore 0 alone could be taken; with semaphore 1 at 0, nothing is.
        return sem_op(set.id(), {{0, -1, IPC_NOWAIT}, {1, -1, IPC_NOWAIT}}) == EAGAIN ? 0 : 1;
    });
    ASSERT_TRUE(child.wait().ok());
    EXPECT_EQ(set.val(0), 1);
    EXPECT_EQ(set.val(1), 0);
}

TEST(SysvSet, BlockedMultiOperationHoldsNothingWhileItWaits) {
    SemSet set({1, 0});
    auto child = kit::spawn([&] { return sem_op(set.id(), {{0, -1, 0}, {1, -1, 0}}); });
    ASSERT_TRUE(eventually([&] { return set.ncnt(1) == 1; }));
    EXPECT_EQ(set.val(0), 1) << "the blocked process took semaphore 0 early";
    ASSERT_EQ(sem_op(set.id(), {{0, -1, IPC_NOWAIT}}), 0);  // another process may use it meanwhile
    ASSERT_EQ(sem_op(set.id(), {{0, +1, 0}, {1, +1, 0}}), 0);
    EXPECT_TRUE(child.wait().ok());
    EXPECT_EQ(set.val(0), 0);
    EXPECT_EQ(set.val(1), 0);
}

TEST(SysvSet, IpcNowaitFailsWithEagainInsteadOfBlocking) {
    SemSet set({0});
    auto child = kit::spawn([&] {
        return sem_op(set.id(), {{0, -1, IPC_NOWAIT}}) == EAGAIN ? 0 : 1;
    });
    EXPECT_TRUE(child.wait().ok()) << "a child that blocked would overrun its deadline";
    EXPECT_EQ(set.val(0), 0);
}

TEST(SysvSet, SemtimedopTimeoutFailsWithEagainNotEtimedout) {
    SemSet set({0});
    auto child = kit::spawn([&] {
        sembuf p{0, -1, 0};
        const timespec rel{0, 100'000'000};  // relative, unlike sem_timedwait
        if (::semtimedop(set.id(), &p, 1, &rel) == 0) return 1;
        return errno == EAGAIN ? 0 : errno == ETIMEDOUT ? 2 : 3;
    });
    const auto status = child.wait();
    EXPECT_FALSE(status.exited_with(2)) << "semtimedop reported ETIMEDOUT, sem_timedwait's error";
    EXPECT_TRUE(status.ok()) << status.describe();
}

TEST(SysvSet, ValuesAboveSemvmxFailWithErange) {
    SemSet set({0});
    semun arg{};
    arg.val = 32767;
    EXPECT_EQ(::semctl(set.id(), 0, SETVAL, arg), 0);
    arg.val = 32768;
    EXPECT_EQ(::semctl(set.id(), 0, SETVAL, arg), -1);
    EXPECT_EQ(errno, ERANGE);
    EXPECT_EQ(sem_op(set.id(), {{0, +1, 0}}), ERANGE);
    EXPECT_EQ(set.val(0), 32767);
}

TEST(SysvSet, MoreThanSemopmOperationsFailWithE2big) {
    auto limits = kit::read_text_file("/proc/sys/kernel/sem");
    ASSERT_TRUE(limits.has_value());
    long semmsl = 0, semmns = 0, semopm = 0;
    ASSERT_EQ(std::sscanf(limits->c_str(), "%ld %ld %ld", &semmsl, &semmns, &semopm), 3);
    SemSet set({0});
    std::vector<sembuf> ops(static_cast<std::size_t>(semopm) + 1, sembuf{0, +1, 0});
    EXPECT_EQ(::semop(set.id(), ops.data(), ops.size()), -1);
    EXPECT_EQ(errno, E2BIG);
    ops.resize(static_cast<std::size_t>(semopm));
    EXPECT_EQ(::semop(set.id(), ops.data(), ops.size()), 0);
    EXPECT_EQ(set.val(0), semopm);
}

TEST(SysvSet, WaitForZeroBlocksUntilTheValueIsZero) {
    SemSet set({1});
    auto child = kit::spawn([&] { return sem_op(set.id(), {{0, 0, 0}}); });
    ASSERT_TRUE(eventually([&] { return set.zcnt(0) == 1; }));
    ASSERT_EQ(sem_op(set.id(), {{0, -1, 0}}), 0);
    EXPECT_TRUE(child.wait().ok());
}

TEST(SysvSet, RemovingTheSetWakesWaitersWithEidrm) {
    SemSet set({0});
    auto child = kit::spawn([&] { return sem_op(set.id(), {{0, -1, 0}}) == EIDRM ? 0 : 1; });
    ASSERT_TRUE(eventually([&] { return set.ncnt(0) == 1; }));
    ASSERT_EQ(::semctl(set.id(), 0, IPC_RMID), 0);
    // Gone at once, although a process was still using it.
    EXPECT_EQ(::semctl(set.id(), 0, GETVAL), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_TRUE(child.wait().ok());
}

// ------------------------------------------------------------------ SEM_UNDO

TEST(SysvUndo, KilledHolderIsReleasedByTheKernel) {
    SemSet set({1});
    kill_while_holding([&] { return sem_op(set.id(), {{0, -1, SEM_UNDO}}); });
    EXPECT_EQ(set.val(0), 1);
}

TEST(SysvUndo, WithoutSemUndoAKilledHolderKeepsTheSemaphore) {
    SemSet set({1});
    kill_while_holding([&] { return sem_op(set.id(), {{0, -1, 0}}); });
    EXPECT_EQ(set.val(0), 0);
    EXPECT_EQ(sem_op(set.id(), {{0, -1, IPC_NOWAIT}}), EAGAIN);
}

TEST(SysvUndo, AForkedChildDoesNotInheritTheUndo) {
    SemSet set({1});
    auto holder = kit::spawn([&] {
        if (sem_op(set.id(), {{0, -1, SEM_UNDO}}) != 0) return 1;
        auto grandchild = kit::spawn([] {});
        if (!grandchild.wait().ok()) return 2;
        return set.val(0) == 0 ? 0 : 3;  // the grandchild's exit gave nothing back
    });
    EXPECT_TRUE(holder.wait().ok());
    EXPECT_EQ(set.val(0), 1) << "the holder's own exit undoes its operation";
}
