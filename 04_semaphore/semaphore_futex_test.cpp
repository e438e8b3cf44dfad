// Tests of chapter 04 (chapter04.*), the futex fast path: under a seccomp
// filter that traps every system call, uncontended sem_post/sem_wait run to the
// end; a wait that must sleep, a post that must wake, and semop are trapped.
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
#include <stdexcept>

#include "kit/sanitizer.hpp"
#include "kit/seccomp.hpp"

namespace {

using kit::kThreadSanitizer;
#if defined(__GLIBC__)
constexpr bool kGlibc = true;
#else
constexpr bool kGlibc = false;
#endif

}  // namespace

// ------------------------------------------------ the futex fast path (seccomp)

namespace {

struct Trap {
    sem_t sem;
    long nr;          // the system call that was trapped
    int setup_errno;  // why the filter could not be installed
};
Trap* g_trap = nullptr;

constexpr int kTrapped = 99;   // exit status of a child caught making a system call
constexpr int kNoFilter = 98;  // exit status of a child that could not install the filter
constexpr long kNoSystemCall = -1;

void on_sigsys(int, siginfo_t* info, void*) {
    g_trap->nr = info->si_syscall;
    ::syscall(SYS_exit_group, kTrapped);
}

// In a child: from here on any system call but exit_group raises SIGSYS.
// 0, or the errno of the step that failed.
int forbid_system_calls() {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (::sigaction(SIGSYS, &sa, nullptr) == -1) return errno;
    return kit::forbid_system_calls(kit::OnSyscall::trap);
}

// Runs body in a child that may make no system call but exit_group. Returns
// kNoSystemCall if the child finished without one, else the trapped call's
// number. Body must not allocate: a growing heap is a system call too.
template <class Body>
long trapped_call(Trap* trap, Body body) {
    g_trap = trap;
    trap->nr = kNoSystemCall;
    auto child = kit::spawn([&] {
        if ((trap->setup_errno = forbid_system_calls()) != 0) return kNoFilter;
        body();
        ::syscall(SYS_exit_group, 0);  // _exit could run hooks that make calls
        return 1;
    });
    const auto status = child.wait();
    if (status.ok()) return kNoSystemCall;
    if (status.exited_with(kTrapped)) return trap->nr;
    if (status.exited_with(kNoFilter)) throw kit::SysError(trap->setup_errno, "prctl");
    throw std::runtime_error("the child under the filter " + status.describe());
}

// Why these proofs cannot run here, or "" when they can. They are about
// glibc's sem_* (another libc may do otherwise); ThreadSanitizer wraps sem_*
// and signal handlers in code that makes system calls of its own; a kernel or
// container may refuse seccomp filters. The probe: a child that installs the
// filter and does nothing must end without a trap.
std::string why_no_seccomp_proof() {
    if (!kGlibc) return "these proofs are about glibc's sem_* implementation";
    if (kThreadSanitizer)
        return "ThreadSanitizer wraps sem_* and signal handlers in code that makes system calls "
               "of its own, so the premise (only glibc between the test and the kernel) fails";
    SharedMemory<Trap> trap;
    try {
        const long nr = trapped_call(&*trap, [] {});
        if (nr != kNoSystemCall)
            return "the runtime itself makes system call " + std::to_string(nr) +
                   " under the filter";
    } catch (const kit::SysError& e) {
        return "cannot install a seccomp filter here: " + e.message();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(FutexFastPath, UncontendedPostAndWaitMakeNoSystemCall) {
    if (const auto why = why_no_seccomp_proof(); !why.empty()) GTEST_SKIP() << why;
    SharedMemory<Trap> trap;
    ASSERT_EQ(::sem_init(&trap->sem, 1, 0), 0);
    EXPECT_EQ(trapped_call(&*trap,
                           [&] {
                               for (int i = 0; i < 100; ++i) {
                                   ::sem_post(&trap->sem);
                                   ::sem_wait(&trap->sem);
                               }
                               ::sem_trywait(&trap->sem);  // EAGAIN, also without the kernel
                           }),
              kNoSystemCall);
    EXPECT_EQ(value_of(&trap->sem), 0) << "the child's 100 P/V pairs balanced out";
    ::sem_destroy(&trap->sem);
}

TEST(FutexFastPath, WaitThatMustBlockEntersTheKernelThroughFutex) {
    if (const auto why = why_no_seccomp_proof(); !why.empty()) GTEST_SKIP() << why;
    SharedMemory<Trap> trap;
    ASSERT_EQ(::sem_init(&trap->sem, 1, 0), 0);
    EXPECT_EQ(trapped_call(&*trap, [&] { ::sem_wait(&trap->sem); }), SYS_futex);
    ::sem_destroy(&trap->sem);
}

TEST(FutexFastPath, PostWithAWaiterEntersTheKernelToWakeIt) {
    if (const auto why = why_no_seccomp_proof(); !why.empty()) GTEST_SKIP() << why;
    SharedMemory<Trap> trap;
    ASSERT_EQ(::sem_init(&trap->sem, 1, 0), 0);
    auto waiter = kit::spawn([&] { return timed_wait(&trap->sem); });
    ASSERT_TRUE(kit::wait_until_blocked(waiter.pid(), "futex"));
    EXPECT_EQ(trapped_call(&*trap, [&] { ::sem_post(&trap->sem); }), SYS_futex);
    // The trapped child had already raised the value in user memory; only its
    // wake-up call never ran. Our own post wakes the waiter, which takes one.
    ASSERT_EQ(::sem_post(&trap->sem), 0);
    EXPECT_TRUE(waiter.wait().ok());
    EXPECT_EQ(value_of(&trap->sem), 1) << "the child's increment did not land";
    ::sem_destroy(&trap->sem);
}

TEST(FutexFastPath, SysvSemopIsASystemCallEvenWhenItNeedNotWait) {
    if (const auto why = why_no_seccomp_proof(); !why.empty()) GTEST_SKIP() << why;
    SharedMemory<Trap> trap;
    SemSet set({1});
    const long nr = trapped_call(&*trap, [&] {
        sembuf p{0, -1, IPC_NOWAIT};  // could proceed at once
        (void)::semop(set.id(), &p, 1);
    });
    EXPECT_TRUE(nr == SYS_semop || nr == SYS_semtimedop) << "trapped call " << nr;
    EXPECT_EQ(set.val(0), 1) << "the trapped semop never ran";
}
