// sem_unnamed_fork.cpp — where an unnamed semaphore lives decides who shares
// it. sem_init(sem, 1, 0) in anonymous MAP_SHARED memory: the child's
// sem_post wakes the parent. The same call on an ordinary variable: fork gave
// the child its own copy of the page, so the child posts a semaphore the
// parent never sees — pshared=1 does not make the memory shared.
//
// Run:    ./sem_unnamed_fork
// Prints: "MAP_SHARED semaphore: the parent woke up on the child's sem_post"
//         "private semaphore: sem_trywait -> EAGAIN (the child posted its own copy)"
#include <semaphore.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "sem_shared.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        void* mem = kit::check(::mmap(nullptr, sizeof(sem_t), PROT_READ | PROT_WRITE,
                                      MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                               MAP_FAILED, "mmap");
        auto* shared = static_cast<sem_t*>(mem);
        kit::check(::sem_init(shared, 1, 0), "sem_init");
        sem_t on_stack;  // copied, not shared, by fork
        kit::check(::sem_init(&on_stack, 1, 0), "sem_init");

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            const bool ok = ::sem_post(shared) == 0 && ::sem_post(&on_stack) == 0;
            ::_exit(ok ? 0 : 1);
        }

        timespec deadline{};
        kit::check(::clock_gettime(CLOCK_REALTIME, &deadline), "clock_gettime");
        deadline.tv_sec += 5;
        int rc = 0;
        while ((rc = ::sem_timedwait(shared, &deadline)) == -1 && errno == EINTR) {
        }
        kit::check(rc, "sem_timedwait");
        std::printf("MAP_SHARED semaphore: the parent woke up on the child's sem_post\n");

        const int status = ch04::reap(pid);
        // The child has ended: anything it posted to our semaphore is there now.
        if (::sem_trywait(&on_stack) == -1 && errno == EAGAIN)
            std::printf(
                "private semaphore: sem_trywait -> EAGAIN (the child posted its own copy)\n");
        else
            std::printf("private semaphore: sem_trywait succeeded (unexpected)\n");

        kit::check(::sem_destroy(&on_stack), "sem_destroy");
        kit::check(::sem_destroy(shared), "sem_destroy");
        kit::check(::munmap(mem, sizeof(sem_t)), "munmap");
        return status == 0 ? 0 : 1;
    });
}
