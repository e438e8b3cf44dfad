// Chapter 05 · Shared memory: what a transfer costs — no system call for the
// bytes or an uncontended lock (seccomp proves it), a page fault per first touch.
#include <gtest/gtest.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "kit/sanitizer.hpp"
#include "kit/seccomp.hpp"
#include "kit/wait.hpp"
#include "shm_test_util.hpp"

using namespace ch05::test;

// ------------------------------------------------------- what a transfer costs

namespace {
// ThreadSanitizer's runtime makes system calls of its own (it maps memory
// for a process's first events), so under it no filter can prove anything.
using kit::kThreadSanitizer;

struct Transfer {
    sem_t lock;
    alignas(kPage) std::array<unsigned char, 64 * kPage> data;
};

// Kills the calling process on every system call but exit_group.
void forbid_all_system_calls() {
    if (int err = kit::forbid_system_calls(kit::OnSyscall::kill); err != 0)
        throw kit::SysError(err, "prctl(PR_SET_SECCOMP)");
}

// The one call the filter allows. (Not _exit(): under AddressSanitizer every
// call to a noreturn function first calls sigaltstack, which the filter kills.)
void exit_group_only(int status) { ::syscall(SYS_exit_group, status); }

bool seccomp_available() {
    if (kThreadSanitizer) return false;
    auto probe = kit::spawn([] {
        forbid_all_system_calls();
        exit_group_only(0);
    });
    return probe.wait().ok();
}
}  // namespace

TEST(ShmCost, TransferAndUncontendedSemaphoreMakeNoSystemCall) {
    if (!seccomp_available())
        GTEST_SKIP() << "seccomp filters are not available here (or ThreadSanitizer, whose runtime "
                        "makes system calls)";
    auto m = shared_anon(sizeof(Transfer));
    auto& t = m.as<Transfer>();
    ASSERT_EQ(::sem_init(&t.lock, 1, 1), 0);
    auto child = kit::spawn([&] {
        forbid_all_system_calls();  // from here on, any system call kills the child
        ::sem_wait(&t.lock);
        std::memset(t.data.data(), 0x5A, t.data.size());
        ::sem_post(&t.lock);
        exit_group_only(0);
    });
    auto status = child.wait();
    ASSERT_TRUE(status.ok()) << status.describe();
    EXPECT_TRUE(
        std::all_of(t.data.begin(), t.data.end(), [](unsigned char c) { return c == 0x5A; }));
    int value = -1;
    ASSERT_EQ(::sem_getvalue(&t.lock, &value), 0);
    EXPECT_EQ(value, 1);  // the child took and gave back the semaphore
    ::sem_destroy(&t.lock);
}

// Q1's claim for the other lock: an uncontended lock/unlock of a
// PTHREAD_PROCESS_SHARED mutex (also a robust one, as in ring_condvar) is an
// atomic instruction in user space; only a waiter would need futex().
TEST(ShmCost, UncontendedProcessSharedMutexMakesNoSystemCall) {
    if (!seccomp_available())
        GTEST_SKIP() << "seccomp filters are not available here (or ThreadSanitizer, whose runtime "
                        "makes system calls)";
    auto m = shared_anon(2 * sizeof(pthread_mutex_t));
    auto* mutexes = &m.as<pthread_mutex_t>();
    init_shared_mutex(mutexes[0]);
    init_shared_mutex(mutexes[1], /*robust=*/true);
    auto child = kit::spawn([&] {
        forbid_all_system_calls();  // from here on, any system call kills the child
        int rc = 0;
        for (int i = 0; i < 2; ++i) {
            rc |= ::pthread_mutex_lock(&mutexes[i]);
            rc |= ::pthread_mutex_unlock(&mutexes[i]);
        }
        exit_group_only(rc == 0 ? 0 : 1);
    });
    auto status = child.wait();
    ASSERT_TRUE(status.ok()) << status.describe();  // SIGSYS here would mean a system call
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(::pthread_mutex_trylock(&mutexes[i]), 0)
            << "the child left mutex " << i << " locked";
        EXPECT_EQ(::pthread_mutex_unlock(&mutexes[i]), 0);
        ::pthread_mutex_destroy(&mutexes[i]);
    }
}

TEST(ShmCost, PipeWriteUnderTheSameFilterIsKilledBySigsys) {
    if (!seccomp_available())
        GTEST_SKIP() << "seccomp filters are not available here (or ThreadSanitizer, whose runtime "
                        "makes system calls)";
    auto p = kit::make_pipe();
    auto child = kit::spawn([&] {
        forbid_all_system_calls();
        (void)::write(p.write.get(), "x", 1);
        exit_group_only(0);
    });
    auto status = child.wait();
    EXPECT_TRUE(status.killed_by(SIGSYS)) << status.describe();
    EXPECT_FALSE(
        kit::wait_readable(p.read.get(), std::chrono::milliseconds(0)));  // nothing got through
}

TEST(ShmCost, FirstTouchOfEachPageIsAPageFault) {
    auto thp = kit::read_text_file("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    if (thp && thp->find("[never]") == std::string::npos &&
        thp->find("[advise]") == std::string::npos && thp->find("[deny]") == std::string::npos)
        GTEST_SKIP() << "shared memory may use huge pages here: " << *thp;
    constexpr std::size_t kPages = 64;
    auto m = shared_anon(kPages * kPage);
    auto counts = shared_anon();
    auto child = kit::spawn([&] {
        rusage before{}, after{}, again{};
        kit::check(::getrusage(RUSAGE_SELF, &before), "getrusage");
        for (std::size_t i = 0; i < kPages; ++i) m.chars()[i * kPage] = 1;  // first touch
        kit::check(::getrusage(RUSAGE_SELF, &after), "getrusage");
        for (std::size_t i = 0; i < kPages; ++i) m.chars()[i * kPage] = 2;  // pages are there now
        kit::check(::getrusage(RUSAGE_SELF, &again), "getrusage");
        counts.as<std::array<long, 2>>() = {after.ru_minflt - before.ru_minflt,
                                            again.ru_minflt - after.ru_minflt};
        return 0;
    });
    ASSERT_TRUE(child.wait().ok());
    auto [first, second] = counts.as<std::array<long, 2>>();
    EXPECT_GE(first, long(kPages));
    EXPECT_LT(second, long(kPages));
}
