// semaphore_test_util.hpp — what the chapter's test files share: semaphores
// and mutexes in shared memory, a System V set that removes itself, bounded
// waits, a one-byte "I am here" pipe handshake, and killing a holder.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/wait.hpp"
#include "sem_shared.hpp"

namespace ch04::test {

// One T in anonymous MAP_SHARED memory (zeroed), unmapped on scope exit:
// what fork shares between parent and child.
template <class T>
using SharedMemory = ch04::SharedMapping<T>;

// An absolute time `ms` from now on `clock` (sem_timedwait wants CLOCK_REALTIME).
inline timespec from_now(std::chrono::milliseconds ms, clockid_t clock = CLOCK_REALTIME) {
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
inline int timed_wait(sem_t* s, std::chrono::milliseconds ms = kit::kDeadline) {
    const timespec deadline = from_now(ms);
    while (::sem_timedwait(s, &deadline) == -1) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

// 0 or the errno of sem_trywait.
inline int try_wait(sem_t* s) { return ::sem_trywait(s) == 0 ? 0 : errno; }

inline int value_of(sem_t* s) {
    int v = -1;
    kit::check(::sem_getvalue(s, &v), "sem_getvalue");
    return v;
}

using ch04::semun;

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
inline int sem_op(int id, std::initializer_list<sembuf> ops) {
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
inline void say(const kit::Fd& fd) { kit::write_all(fd.get(), std::as_bytes(std::span("x", 1))); }
inline bool heard(const kit::Fd& fd) {
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
inline bool reached(const timespec& t, clockid_t clock) {
    timespec now{};
    kit::check(::clock_gettime(clock, &now), "clock_gettime");
    return now.tv_sec > t.tv_sec || (now.tv_sec == t.tv_sec && now.tv_nsec >= t.tv_nsec);
}

inline bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

inline pthread_mutexattr_t shared_attr(int type, bool robust) {
    pthread_mutexattr_t attr;
    kit::check_err(::pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    kit::check_err(::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
    kit::check_err(::pthread_mutexattr_settype(&attr, type), "settype");
    if (robust)
        kit::check_err(::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), "setrobust");
    return attr;
}

// A child locks m and is killed with SIGKILL while holding it.
inline void kill_owner(pthread_mutex_t* m) {
    kill_while_holding([m] { return ::pthread_mutex_lock(m); });
}

struct RobustMutex {
    pthread_mutex_t m;
    int data;
};

// A robust process-shared mutex in shared memory whose owner has been killed.
inline void init_and_kill_owner(RobustMutex& r) {
    auto attr = shared_attr(PTHREAD_MUTEX_NORMAL, true);
    kit::check_err(::pthread_mutex_init(&r.m, &attr), "pthread_mutex_init");
    kill_owner(&r.m);
}

}  // namespace ch04::test
