// Tests of chapter 04 (chapter04.*): every claim of the lesson about POSIX and
// System V semaphores, P/V patterns and process-shared mutexes, each proved
// between real processes (fork, or separate programs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "kit/sanitizer.hpp"
#include "kit/check.hpp"
#include "kit/seccomp.hpp"
#include "kit/child.hpp"
#include "kit_test/program.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

using namespace std::chrono_literals;

// Read by ThreadSanitizer, when the tests run under it: one test unlocks
// another process's mutex on purpose, to show that the mutex refuses.
extern "C" const char* __tsan_default_suppressions() {
    return "mutex:ErrorcheckMutexRefusesUnlockByANonOwner\n";
}

namespace {

using kit::kThreadSanitizer;
#if defined(__GLIBC__)
constexpr bool kGlibc = true;
#else
constexpr bool kGlibc = false;
#endif

// Anonymous MAP_SHARED memory holding one T (zeroed), unmapped on scope exit:
// what fork shares between parent and child.
template <class T>
class SharedMemory {
public:
    SharedMemory()
        : p_(static_cast<T*>(kit::check(
              ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              MAP_FAILED, "mmap"))) {}
    SharedMemory(const SharedMemory&) = delete;
    SharedMemory& operator=(const SharedMemory&) = delete;
    ~SharedMemory() { ::munmap(p_, sizeof(T)); }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }

private:
    T* p_;
};

// An absolute time `ms` from now on `clock` (sem_timedwait wants CLOCK_REALTIME).
timespec from_now(std::chrono::milliseconds ms, clockid_t clock = CLOCK_REALTIME) {
    timespec t{};
    kit::check(::clock_gettime(clock, &t), "clock_gettime");
    t.tv_sec += ms.count() / 1000;
    t.tv_nsec += (ms.count() % 1000) * 1'000'000;
    if (t.tv_nsec >= 1'000'000'000) {
        t.tv_sec += 1;
        t.tv_nsec -= 1'000'000'000;
    }
    return t;
}

// sem_timedwait with a deadline `ms` from now, retrying EINTR: 0 or the errno.
int timed_wait(sem_t* s, std::chrono::milliseconds ms = kit::kDeadline) {
    const timespec deadline = from_now(ms);
    while (::sem_timedwait(s, &deadline) == -1) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

// 0 or the errno of sem_trywait.
int try_wait(sem_t* s) {
    return ::sem_trywait(s) == 0 ? 0 : errno;
}

int value_of(sem_t* s) {
    int v = -1;
    kit::check(::sem_getvalue(s, &v), "sem_getvalue");
    return v;
}

// semctl's fourth argument, which the caller must define (semctl(2)).
union semun {
    int val;
    semid_ds* buf;
    unsigned short* array;
};

// A private System V set of n semaphores with the given values, removed on scope exit.
struct SemSet {
    kit::SysvGuard guard;
    explicit SemSet(std::initializer_list<unsigned short> values)
        : guard(kit::sem_guard(
              kit::check(::semget(IPC_PRIVATE, static_cast<int>(values.size()), IPC_CREAT | 0600),
                         "semget"))) {
        std::vector<unsigned short> v(values);
        semun arg{};
        arg.array = v.data();
        kit::check(::semctl(id(), 0, SETALL, arg), "semctl(SETALL)");
    }
    [[nodiscard]] int id() const { return guard.id(); }
    [[nodiscard]] int val(int n) const { return kit::check(::semctl(id(), n, GETVAL), "GETVAL"); }
    [[nodiscard]] int ncnt(int n) const {
        return kit::check(::semctl(id(), n, GETNCNT), "GETNCNT");
    }
    [[nodiscard]] int zcnt(int n) const {
        return kit::check(::semctl(id(), n, GETZCNT), "GETZCNT");
    }
};

// 0 or the errno of semop.
int sem_op(int id, std::initializer_list<sembuf> ops) {
    std::vector<sembuf> v(ops);
    return ::semop(id, v.data(), v.size()) == 0 ? 0 : errno;
}

// Re-reads f() until it returns true, giving up at the deadline. For kernel
// counters that another process changes (semncnt): no pauses, no guessing.
template <class F>
bool eventually(F f, std::chrono::milliseconds deadline = kit::kDeadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!f()) {
        if (std::chrono::steady_clock::now() > end) return false;
        ::sched_yield();  // no pause: just let the other process run
    }
    return true;
}

// One byte through a pipe: "I am here" from a child, "go on" from the parent.
void say(const kit::Fd& fd) {
    kit::write_all(fd.get(), std::as_bytes(std::span("x", 1)));
}
bool heard(const kit::Fd& fd) {
    if (!kit::wait_readable(fd.get())) return false;
    std::array<std::byte, 1> b{};
    return kit::read_full(fd.get(), b) == 1;
}

// A child runs take() (0 once it holds a lock or a unit), says so and waits;
// it is killed with SIGKILL while holding it, and reaped.
template <class Take>
void kill_while_holding(Take take) {
    auto ready = kit::make_pipe();
    auto child = kit::spawn([&] {
        if (take() != 0) return 1;
        say(ready.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(heard(ready.read));
    ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
    ASSERT_TRUE(child.wait().killed_by(SIGKILL));
}

// Whether `clock` has reached the absolute time `t`.
bool reached(const timespec& t, clockid_t clock) {
    timespec now{};
    kit::check(::clock_gettime(clock, &now), "clock_gettime");
    return now.tv_sec > t.tv_sec || (now.tv_sec == t.tv_sec && now.tv_nsec >= t.tv_nsec);
}

std::string program(const char* name) {
    return std::string(KIT_BIN_DIR) + "/" + name;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

// ---------------------------------------------------------------- POSIX named

TEST(PosixNamed, UnrelatedProgramsMeetByName) {
    const auto name = kit::unique_posix_name("meet");
    auto guard = kit::sem_unlink_guard(name);
    const std::string file = "/dev/shm/sem." + name.substr(1);
    auto waiter = kit::spawn([&] {
        auto r = kit::test::run_program({program("sem_named_waiter"), name, "5"});
        if (!r.status.ok()) std::fprintf(stderr, "%s%s\n", r.out.c_str(), r.err.c_str());
        return r.status.ok() && r.out.find("woke up") != std::string::npos ? 0 : 1;
    });
    // The waiter created the semaphore (a file in /dev/shm) and is about to block on it.
    ASSERT_TRUE(eventually([&] { return exists(file); }));
    auto poster = kit::test::run_program({program("sem_named_poster"), name});
    ASSERT_TRUE(poster.status.ok()) << poster.err;
    EXPECT_NE(poster.out.find("value before: 0"), std::string::npos) << poster.out;
    EXPECT_TRUE(waiter.wait().ok());
    EXPECT_FALSE(exists(file)) << "the waiter removes the name";
}

TEST(PosixNamed, NameIsAFileInDevShmUntilUnlinked) {
    const auto name = kit::unique_posix_name("file");
    auto guard = kit::sem_unlink_guard(name);
    sem_t* s =
        kit::check(::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 0), SEM_FAILED, "sem_open");
    EXPECT_TRUE(exists("/dev/shm/sem." + name.substr(1)));
    ASSERT_EQ(::sem_unlink(name.c_str()), 0);
    EXPECT_FALSE(exists("/dev/shm/sem." + name.substr(1)));
    EXPECT_EQ(::sem_open(name.c_str(), 0), SEM_FAILED);
    EXPECT_EQ(errno, ENOENT);
    // The open handle outlives the name.
    EXPECT_EQ(::sem_post(s), 0);
    EXPECT_EQ(value_of(s), 1);
    EXPECT_EQ(::sem_close(s), 0);
}

TEST(PosixNamed, ValueOutlivesEveryProcessThatOpenedIt) {
    const auto name = kit::unique_posix_name("persist");
    auto guard = kit::sem_unlink_guard(name);
    auto child = kit::spawn([&] {
        sem_t* s =
            kit::check(::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 0), SEM_FAILED, "sem_open");
        for (int i = 0; i < 3; ++i) kit::check(::sem_post(s), "sem_post");
        kit::check(::sem_close(s), "sem_close");
    });
    ASSERT_TRUE(child.wait().ok());
    // Nobody has it open now; the value waits in the kernel for the next opener.
    sem_t* s = kit::check(::sem_open(name.c_str(), 0), SEM_FAILED, "sem_open");
    EXPECT_EQ(value_of(s), 3);
    ::sem_close(s);
}

TEST(PosixNamed, ExclusiveCreateOfAnExistingNameFailsWithEexist) {
    const auto name = kit::unique_posix_name("excl");
    auto guard = kit::sem_unlink_guard(name);
    sem_t* s =
        kit::check(::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 0), SEM_FAILED, "sem_open");
    auto child = kit::spawn([&] {
        return ::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED && errno == EEXIST
                   ? 0
                   : 1;
    });
    EXPECT_TRUE(child.wait().ok());
    ::sem_close(s);
}

// -------------------------------------------------------------- POSIX unnamed

TEST(PosixUnnamed, SemaphoreInMapSharedMemoryWakesAnotherProcess) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 0), 0);
    auto child = kit::spawn([&] { kit::check(::sem_post(&*sem), "sem_post"); });
    EXPECT_EQ(timed_wait(&*sem), 0);
    EXPECT_TRUE(child.wait().ok());
    ::sem_destroy(&*sem);
}

TEST(PosixUnnamed, SemaphoreInPrivateMemoryIsCopiedByFork) {
    sem_t mine;
    ASSERT_EQ(::sem_init(&mine, 1, 0), 0);  // pshared=1, but the memory is not shared
    auto child = kit::spawn([&] {
        kit::check(::sem_post(&mine), "sem_post");
        return value_of(&mine) == 1 ? 0 : 1;  // the child sees its own post
    });
    ASSERT_TRUE(child.wait().ok());
    EXPECT_EQ(try_wait(&mine), EAGAIN) << "the child's post reached the parent's copy";
    ::sem_destroy(&mine);
}

// ---------------------------------------------------------------- POSIX waits

TEST(PosixWait, TrywaitOnZeroFailsWithEagain) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 1), 0);
    auto child = kit::spawn([&] { return try_wait(&*sem); });  // takes the only unit
    ASSERT_TRUE(child.wait().ok());
    EXPECT_EQ(try_wait(&*sem), EAGAIN);
    ::sem_destroy(&*sem);
}

TEST(PosixWait, TimedwaitOnZeroFailsWithEtimedoutAfterTheDeadline) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 0), 0);
    const timespec deadline = from_now(100ms);
    auto child = kit::spawn(
        [&] { return ::sem_timedwait(&*sem, &deadline) == -1 && errno == ETIMEDOUT ? 0 : 1; });
    EXPECT_TRUE(child.wait().ok());
    EXPECT_TRUE(reached(deadline, CLOCK_REALTIME)) << "gave up before the deadline";
    ::sem_destroy(&*sem);
}

TEST(PosixWait, ClockwaitMeasuresItsDeadlineOnTheClockItIsGiven) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 0), 0);
    // Read as CLOCK_REALTIME this would be decades ago and time out at once.
    const timespec deadline = from_now(100ms, CLOCK_MONOTONIC);
    auto child = kit::spawn([&] {
        const int rc = ::sem_clockwait(&*sem, CLOCK_MONOTONIC, &deadline);
        return rc == -1 && errno == ETIMEDOUT ? 0 : 1;
    });
    EXPECT_TRUE(child.wait().ok());
    EXPECT_TRUE(reached(deadline, CLOCK_MONOTONIC)) << "gave up before the monotonic deadline";
    ::sem_destroy(&*sem);
}

TEST(PosixWait, DeadlineIsAPointInTimeNotADuration) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 0), 0);
    auto child = kit::spawn([&] {
        const timespec five_seconds{5, 0};  // meant as "wait 5 s", read as 1970-01-01 00:00:05
        return ::sem_timedwait(&*sem, &five_seconds) == -1 && errno == ETIMEDOUT ? 0 : 1;
    });
    // Well under the 5 s the writer meant: the deadline had passed long ago.
    EXPECT_TRUE(child.wait(2s).ok());
    ::sem_destroy(&*sem);
}

TEST(PosixWait, TimedwaitNeverTimesOutWhenItNeedNotWait) {
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 1), 0);
    auto child = kit::spawn([&] {
        const timespec past{1, 0};  // 1970: long gone
        return ::sem_timedwait(&*sem, &past);
    });
    EXPECT_TRUE(child.wait().ok());
    EXPECT_EQ(value_of(&*sem), 0);
    ::sem_destroy(&*sem);
}

TEST(PosixWait, InvalidDeadlineFailsWithEinvalEvenWhenItNeedNotWait) {
    // sem_wait(3) says the deadline is not checked when the call can proceed at
    // once; glibc checks it first, and the semaphore stays untouched.
    SharedMemory<sem_t> sem;
    ASSERT_EQ(::sem_init(&*sem, 1, 1), 0);
    auto child = kit::spawn([&] {
        const timespec invalid{0, 1'000'000'000};
        return ::sem_timedwait(&*sem, &invalid) == -1 && errno == EINVAL ? 0 : 1;
    });
    EXPECT_TRUE(child.wait().ok());
    EXPECT_EQ(value_of(&*sem), 1);
    ::sem_destroy(&*sem);
}

TEST(PosixWait, PostBeyondSemValueMaxFailsWithEoverflow) {
    sem_t s;
    ASSERT_EQ(::sem_init(&s, 0, SEM_VALUE_MAX), 0);
    EXPECT_EQ(SEM_VALUE_MAX, INT_MAX);
    EXPECT_EQ(::sem_post(&s), -1);
    EXPECT_EQ(errno, EOVERFLOW);
    ::sem_destroy(&s);
}

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
        return ::semtimedop(set.id(), &p, 1, &rel) == -1 && errno == EAGAIN ? 0 : 1;
    });
    EXPECT_TRUE(child.wait().ok());
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

// ----------------------------------------------------------------- P and V

TEST(PV, BinarySemaphoreKeepsASecondProcessOut) {
    SharedMemory<sem_t> lock;
    ASSERT_EQ(::sem_init(&*lock, 1, 1), 0);
    auto in = kit::make_pipe(), out = kit::make_pipe();
    auto holder = kit::spawn([&] {
        if (timed_wait(&*lock) != 0) return 1;  // P
        say(in.write);
        if (!heard(out.read)) return 2;
        return ::sem_post(&*lock) == 0 ? 0 : 3;  // V
    });
    ASSERT_TRUE(heard(in.read));
    auto second = kit::spawn([&] { return try_wait(&*lock) == EAGAIN ? 0 : 1; });
    EXPECT_TRUE(second.wait().ok()) << "a second process got into the critical section";
    say(out.write);
    EXPECT_TRUE(holder.wait().ok());
    EXPECT_EQ(timed_wait(&*lock), 0) << "after V the next process gets in";
    ::sem_destroy(&*lock);
}

TEST(PV, NothingKeepsABinarySemaphoreBinary) {
    SharedMemory<sem_t> lock;
    ASSERT_EQ(::sem_init(&*lock, 1, 1), 0);
    ASSERT_EQ(::sem_post(&*lock), 0);  // a V too many
    EXPECT_EQ(value_of(&*lock), 2);
    auto a = kit::spawn([&] { return try_wait(&*lock); });
    auto b = kit::spawn([&] { return try_wait(&*lock); });
    EXPECT_TRUE(a.wait().ok());
    EXPECT_TRUE(b.wait().ok()) << "two processes now hold the \"lock\"";
    ::sem_destroy(&*lock);
}

TEST(PV, CountingSemaphoreAdmitsExactlyNHolders) {
    struct Pool {
        sem_t slots, leave;
    };
    SharedMemory<Pool> pool;
    ASSERT_EQ(::sem_init(&pool->slots, 1, 3), 0);
    ASSERT_EQ(::sem_init(&pool->leave, 1, 0), 0);
    std::vector<kit::Child> holders;
    int admitted = 0, refused = 0;
    for (int i = 0; i < 5; ++i) {  // one at a time, so each sees the others' holds
        auto answer = kit::make_pipe();
        auto c = kit::spawn([&] {
            const int err = try_wait(&pool->slots);
            kit::write_all(answer.write.get(), std::as_bytes(std::span(&err, 1)));
            if (err != 0) return 0;
            if (timed_wait(&pool->leave) != 0) return 1;
            return ::sem_post(&pool->slots);
        });
        int err = -1;
        ASSERT_TRUE(kit::wait_readable(answer.read.get()));
        ASSERT_EQ(kit::read_full(answer.read.get(), std::as_writable_bytes(std::span(&err, 1))),
                  sizeof err);
        (err == 0 ? admitted : refused) += 1;
        if (err != 0) {
            EXPECT_EQ(err, EAGAIN);
        }
        holders.push_back(std::move(c));
    }
    EXPECT_EQ(admitted, 3);
    EXPECT_EQ(refused, 2);
    EXPECT_EQ(value_of(&pool->slots), 0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(::sem_post(&pool->leave), 0);
    for (auto& c : holders) EXPECT_TRUE(c.wait().ok());
    EXPECT_EQ(value_of(&pool->slots), 3);
    ::sem_destroy(&pool->slots);
    ::sem_destroy(&pool->leave);
}

TEST(PV, CountingPoolProgramNeverExceedsItsSlots) {
    auto r = kit::test::run_program({program("sem_counting_pool")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("3 holders, pool value 0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("most holders at once: 3\n"), std::string::npos) << r.out;
}

TEST(PV, ZeroSemaphoreMakesBRunAfterA) {
    struct Log {
        sem_t a_done;
        char order[4];
    };
    SharedMemory<Log> log;
    ASSERT_EQ(::sem_init(&log->a_done, 1, 0), 0);
    auto b = kit::spawn([&] {
        if (timed_wait(&log->a_done) != 0) return 1;
        log->order[1] = 'B';
        return 0;
    });
    // B has started and is blocked; it has written nothing yet.
    ASSERT_TRUE(kit::wait_until_blocked(b.pid(), "futex"));
    EXPECT_EQ(log->order[1], '\0');
    auto a = kit::spawn([&] {
        log->order[0] = 'A';
        return ::sem_post(&log->a_done);
    });
    EXPECT_TRUE(a.wait().ok());
    EXPECT_TRUE(b.wait().ok());
    EXPECT_STREQ(log->order, "AB");
    ::sem_destroy(&log->a_done);
}

TEST(PV, BinaryLockProgramLosesNoUpdate) {
    auto r = kit::test::run_program({program("sem_binary_lock"), "3", "5000"});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_EQ(r.out, "3 processes x 5000 increments = 15000, counter = 15000\n");
}

// ------------------------------------------------------- semaphore vs mutex

namespace {

pthread_mutexattr_t shared_attr(int type, bool robust) {
    pthread_mutexattr_t attr;
    kit::check_err(::pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    kit::check_err(::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
    kit::check_err(::pthread_mutexattr_settype(&attr, type), "settype");
    if (robust)
        kit::check_err(::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), "setrobust");
    return attr;
}

// A child locks m and is killed with SIGKILL while holding it.
void kill_owner(pthread_mutex_t* m) {
    kill_while_holding([m] { return ::pthread_mutex_lock(m); });
}

struct RobustMutex {
    pthread_mutex_t m;
    int data;
};

// A robust process-shared mutex in shared memory whose owner has been killed.
void init_and_kill_owner(RobustMutex& r) {
    auto attr = shared_attr(PTHREAD_MUTEX_NORMAL, true);
    kit::check_err(::pthread_mutex_init(&r.m, &attr), "pthread_mutex_init");
    kill_owner(&r.m);
}

}  // namespace

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

TEST(Ownership, ProcessSharedMutexKeepsAnotherProcessOut) {
    SharedMemory<pthread_mutex_t> m;
    auto attr = shared_attr(PTHREAD_MUTEX_NORMAL, false);
    ASSERT_EQ(::pthread_mutex_init(&*m, &attr), 0);
    auto locked = kit::make_pipe(), done = kit::make_pipe();
    auto owner = kit::spawn([&] {
        kit::check_err(::pthread_mutex_lock(&*m), "pthread_mutex_lock");
        say(locked.write);
        if (!heard(done.read)) return 1;
        return ::pthread_mutex_unlock(&*m);
    });
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
    auto owner = kit::spawn([&] {
        kit::check_err(::pthread_mutex_lock(&*m), "pthread_mutex_lock");
        say(locked.write);
        if (!heard(done.read)) return 1;
        return ::pthread_mutex_unlock(&*m);
    });
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

// ------------------------------------------------------- signals while waiting

namespace {

volatile int* g_handled = nullptr;  // in shared memory: the parent sees the handler run
void on_sigusr1(int) {
    *g_handled = 1;
}

struct Interrupted {
    sem_t sem;
    int handled;
};

// A child installs a SIGUSR1 handler with `flags`, then runs wait() (which
// returns 0 or an errno); the parent signals it once it is blocked in `hint`.
template <class Wait>
kit::Child signal_a_waiter(Interrupted* shared, int flags, const char* hint, Wait wait) {
    g_handled = &shared->handled;
    auto child = kit::spawn([&] {
        struct sigaction sa {};
        sa.sa_handler = on_sigusr1;
        sa.sa_flags = flags;
        kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");
        return wait();
    });
    EXPECT_TRUE(kit::wait_until_blocked(child.pid(), hint));
    EXPECT_EQ(::kill(child.pid(), SIGUSR1), 0);
    EXPECT_TRUE(eventually([&] { return shared->handled == 1; }));
    return child;
}

}  // namespace

TEST(SignalInterruption, SemWaitFailsWithEintrWithoutSaRestart) {
    SharedMemory<Interrupted> shared;
    ASSERT_EQ(::sem_init(&shared->sem, 1, 0), 0);
    auto child = signal_a_waiter(&*shared, 0, "futex",
                                 [&] { return ::sem_wait(&shared->sem) == 0 ? 0 : errno; });
    auto status = child.wait();
    EXPECT_TRUE(status.exited_with(EINTR)) << status.describe();
    ::sem_destroy(&shared->sem);
}

TEST(SignalInterruption, SemWaitIsRestartedUnderSaRestart) {
    SharedMemory<Interrupted> shared;
    ASSERT_EQ(::sem_init(&shared->sem, 1, 0), 0);
    auto child = signal_a_waiter(&*shared, SA_RESTART, "futex",
                                 [&] { return ::sem_wait(&shared->sem) == 0 ? 0 : errno; });
    // The handler has run and the child is blocked again, in the same sem_wait.
    ASSERT_TRUE(kit::wait_until_blocked(child.pid(), "futex"));
    ASSERT_EQ(::sem_post(&shared->sem), 0);
    auto status = child.wait();
    EXPECT_TRUE(status.ok()) << status.describe();
    ::sem_destroy(&shared->sem);
}

TEST(SignalInterruption, SemopFailsWithEintrEvenUnderSaRestart) {
    SharedMemory<Interrupted> shared;
    SemSet set({0});
    auto child = signal_a_waiter(&*shared, SA_RESTART, "semtimedop", [&] {
        return sem_op(set.id(), {{0, -1, 0}});
    });
    auto status = child.wait();
    EXPECT_TRUE(status.exited_with(EINTR)) << status.describe();
}

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
