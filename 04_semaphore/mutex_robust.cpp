// mutex_robust.cpp — a process-shared pthread mutex whose owner is killed.
// Plain: it stays locked forever (a bounded lock attempt times out).
// Robust: the next locker gets EOWNERDEAD and owns the mutex; after
// pthread_mutex_consistent it is a normal mutex again. Unlocked without
// pthread_mutex_consistent, it is dead for good: ENOTRECOVERABLE.
//
// Run:    ./mutex_robust
// Prints: "plain mutex, owner killed:  pthread_mutex_timedlock -> ETIMEDOUT"
//         "robust mutex, owner killed: pthread_mutex_lock -> EOWNERDEAD, consistent, ..."
//         "robust, not made consistent: next pthread_mutex_lock -> ENOTRECOVERABLE"
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "sem_shared.hpp"

namespace {

struct Shared {
    pthread_mutex_t plain, robust, abandoned;
};

void init(pthread_mutex_t* m, bool robust) {
    pthread_mutexattr_t attr;
    kit::check_err(::pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    kit::check_err(::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                   "pthread_mutexattr_setpshared");
    if (robust)
        kit::check_err(::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
                       "pthread_mutexattr_setrobust");
    kit::check_err(::pthread_mutex_init(m, &attr), "pthread_mutex_init");
    kit::check_err(::pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy");
}

// A child locks m, says so through a pipe, and is killed with SIGKILL.
void kill_while_holding(pthread_mutex_t* m) {
    int fds[2];
    kit::check(::pipe(fds), "pipe");
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        if (::pthread_mutex_lock(m) != 0 || ::write(fds[1], "L", 1) != 1) ::_exit(1);
        ::alarm(10);
        for (;;) ::pause();
    }
    ::close(fds[1]);
    char c = 0;
    ssize_t n = 0;
    while ((n = ::read(fds[0], &c, 1)) == -1 && errno == EINTR) {
    }
    ::close(fds[0]);
    if (n != 1) throw kit::SysError(ECHILD, "child did not lock");
    kit::check(::kill(pid, SIGKILL), "kill");
    ch04::reap(pid);
}

const char* name(int err) { return err == 0 ? "0" : strerrorname_np(err); }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        ch04::SharedMapping<Shared> mem;  // what parent and children share
        Shared* s = mem.get();
        init(&s->plain, false);
        init(&s->robust, true);
        init(&s->abandoned, true);

        kill_while_holding(&s->plain);
        timespec soon{};
        kit::check(::clock_gettime(CLOCK_REALTIME, &soon), "clock_gettime");
        soon.tv_nsec += 200'000'000;
        if (soon.tv_nsec >= 1'000'000'000) soon = {soon.tv_sec + 1, soon.tv_nsec - 1'000'000'000};
        std::printf("plain mutex, owner killed:  pthread_mutex_timedlock -> %s\n",
                    name(::pthread_mutex_timedlock(&s->plain, &soon)));

        kill_while_holding(&s->robust);
        const int first = ::pthread_mutex_lock(&s->robust);
        if (first == EOWNERDEAD) {
            // Here the data the mutex guards would be repaired, then:
            kit::check_err(::pthread_mutex_consistent(&s->robust), "pthread_mutex_consistent");
        }
        kit::check_err(::pthread_mutex_unlock(&s->robust), "pthread_mutex_unlock");
        const int next = ::pthread_mutex_lock(&s->robust);
        std::printf(
            "robust mutex, owner killed: pthread_mutex_lock -> %s, consistent, next lock -> %s\n",
            name(first), name(next));
        if (next == 0) kit::check_err(::pthread_mutex_unlock(&s->robust), "pthread_mutex_unlock");

        kill_while_holding(&s->abandoned);
        const int dead = ::pthread_mutex_lock(&s->abandoned);
        if (dead == EOWNERDEAD)
            kit::check_err(::pthread_mutex_unlock(&s->abandoned), "pthread_mutex_unlock");
        const int after = ::pthread_mutex_lock(&s->abandoned);
        std::printf("robust, not made consistent: next pthread_mutex_lock -> %s\n", name(after));

        kit::check_err(::pthread_mutex_destroy(&s->robust), "pthread_mutex_destroy");
        return first == EOWNERDEAD && next == 0 && after == ENOTRECOVERABLE ? 0 : 1;
    });
}
