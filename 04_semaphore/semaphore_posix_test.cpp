// Tests of chapter 04 (chapter04.*), POSIX semaphores: named and unnamed,
// the ways to wait, P/V patterns, and signals while waiting.
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

#include <array>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <span>
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

// ---------------------------------------------------------------- POSIX named

TEST(PosixNamed, UnrelatedProgramsMeetByName) {
    const auto name = kit::unique_posix_name("meet");
    auto guard = kit::sem_unlink_guard(name);
    const std::string file = "/dev/shm/sem." + name.substr(1);
    auto waiter = kit::spawn([&] {
        auto r = kit::test::run_program({kit::test::program_path("sem_named_waiter"), name, "5"});
        if (!r.status.ok()) std::fprintf(stderr, "%s%s\n", r.out.c_str(), r.err.c_str());
        return r.status.ok() && r.out.find("woke up") != std::string::npos ? 0 : 1;
    });
    // The waiter created the semaphore (a file in /dev/shm) and is about to block on it.
    ASSERT_TRUE(eventually([&] { return exists(file); }));
    auto poster = kit::test::run_program({kit::test::program_path("sem_named_poster"), name});
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

TEST(PosixNamed, WaiterStoppedBySigintOrSigtermRemovesTheName) {
    for (int sig : {SIGINT, SIGTERM}) {
        const auto name = kit::unique_posix_name("stop");
        auto guard = kit::sem_unlink_guard(name);
        auto out = kit::make_pipe();
        auto waiter = kit::spawn([&] {
            kit::check(::dup2(out.write.get(), STDOUT_FILENO), "dup2");
            const std::string path = kit::test::program_path("sem_named_waiter");
            ::execl(path.c_str(), path.c_str(), name.c_str(), "5", nullptr);
            return 127;
        });
        out.write.reset();
        // Its ready line: the semaphore exists and it is about to wait.
        std::string line;
        std::array<std::byte, 256> buf{};
        while (line.find('\n') == std::string::npos && kit::wait_readable(out.read.get())) {
            const std::size_t n = kit::read_full(out.read.get(), std::span(buf).first(1));
            if (n == 0) break;
            line += static_cast<char>(buf[0]);
        }
        ASSERT_NE(line.find("waiting up to"), std::string::npos) << line;
        ASSERT_TRUE(exists("/dev/shm/sem." + name.substr(1)));
        ASSERT_TRUE(kit::wait_until_blocked(waiter.pid(), "futex"));  // in sem_timedwait
        ASSERT_EQ(::kill(waiter.pid(), sig), 0);
        const auto status = waiter.wait();
        EXPECT_TRUE(status.exited_with(128 + sig)) << strsignal(sig) << ": " << status.describe();
        EXPECT_FALSE(exists("/dev/shm/sem." + name.substr(1))) << strsignal(sig);
    }
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
    auto r = kit::test::run_program({kit::test::program_path("sem_counting_pool")});
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
    auto r = kit::test::run_program({kit::test::program_path("sem_binary_lock"), "3", "5000"});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_EQ(r.out, "3 processes x 5000 increments = 15000, counter = 15000\n");
}

// ------------------------------------------------------- signals while waiting

namespace {

volatile int* g_handled = nullptr;  // in shared memory: the parent sees the handler run
void on_sigusr1(int) { *g_handled = 1; }

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
