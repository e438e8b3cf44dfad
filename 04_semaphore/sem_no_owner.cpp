// sem_no_owner.cpp — a semaphore has no owner, a mutex has one. A child takes
// a binary semaphore and exits; a different child, which never took it, posts
// it — perfectly legal. A process-shared error-checking pthread mutex locked
// by a child refuses to be unlocked by the parent: EPERM.
//
// Run:    ./sem_no_owner
// Prints: "semaphore: taken by child 1, posted by child 2, value now 1"
//         "mutex: locked by the child, parent's pthread_mutex_unlock -> EPERM"
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "sem_shared.hpp"

namespace {

struct Shared {
    sem_t sem;
    pthread_mutex_t mutex;
};

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        ch04::SharedMapping<Shared> mem;  // shared with the children forked below
        Shared* s = mem.get();
        kit::check(::sem_init(&s->sem, 1, 1), "sem_init");
        std::fflush(stdout);

        pid_t taker = kit::check(::fork(), "fork");
        if (taker == 0) ::_exit(::sem_trywait(&s->sem) == 0 ? 0 : 1);  // takes it, never posts
        pid_t poster = -1;
        if (ch04::reap(taker) == 0) {
            poster = kit::check(::fork(), "fork");
            if (poster == 0)
                ::_exit(::sem_post(&s->sem) == 0 ? 0 : 1);  // gives back what it never took
        }
        int value = -1;
        if (poster > 0 && ch04::reap(poster) == 0)
            kit::check(::sem_getvalue(&s->sem, &value), "sem_getvalue");
        std::printf("semaphore: taken by child 1, posted by child 2, value now %d\n", value);

        pthread_mutexattr_t attr;
        kit::check_err(::pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        kit::check_err(::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                       "pthread_mutexattr_setpshared");
        // ERRORCHECK makes the mutex check its owner on unlock (the default
        // type's unlock by a non-owner is undefined behaviour).
        kit::check_err(::pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK),
                       "pthread_mutexattr_settype");
        kit::check_err(::pthread_mutex_init(&s->mutex, &attr), "pthread_mutex_init");
        int up[2], down[2];  // child -> parent "locked", parent -> child "go on"
        kit::check(::pipe(up), "pipe");
        kit::check(::pipe(down), "pipe");
        pid_t owner = kit::check(::fork(), "fork");
        if (owner == 0) {
            char go = 0;
            if (::pthread_mutex_lock(&s->mutex) != 0 || ::write(up[1], "L", 1) != 1) ::_exit(1);
            ::alarm(10);
            while (::read(down[0], &go, 1) == -1 && errno == EINTR) {
            }
            ::_exit(::pthread_mutex_unlock(&s->mutex) == 0 ? 0 : 1);
        }
        char locked = 0;
        while (::read(up[0], &locked, 1) == -1)
            if (errno != EINTR) throw kit::SysError(errno, "read");
        const int err = ::pthread_mutex_unlock(&s->mutex);
        std::printf("mutex: locked by the child, parent's pthread_mutex_unlock -> %s\n",
                    err == EPERM ? "EPERM"
                    : err == 0   ? "0 (unlocked!)"
                                 : "another error");
        kit::check(::write(down[1], "G", 1), "write");
        const bool owner_ok = ch04::reap(owner) == 0;
        for (int fd : {up[0], up[1], down[0], down[1]}) ::close(fd);
        kit::check_err(::pthread_mutex_destroy(&s->mutex), "pthread_mutex_destroy");
        kit::check(::sem_destroy(&s->sem), "sem_destroy");
        return value == 1 && err == EPERM && owner_ok ? 0 : 1;
    });
}
