// svsem_atomic_ops.cpp — a System V semaphore set (semget) and one semop
// applying several operations atomically: "take semaphore 0 AND semaphore 1"
// happens entirely or not at all. With IPC_NOWAIT it fails with EAGAIN and
// changes nothing; without it, the caller sleeps holding nothing, so no other
// process is locked out of semaphore 0 while it waits for semaphore 1.
//
// Run:    ./svsem_atomic_ops
// Prints: the values after each step, ending with
//         "child took both in one semop: values now 0 0"
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "sem_shared.hpp"

namespace {

void show(int id, const char* when) {
    unsigned short v[2]{};
    ch04::semun arg{};
    arg.array = v;
    kit::check(::semctl(id, 0, GETALL, arg), "semctl(GETALL)");
    std::printf("%-44s values %d %d\n", when, v[0], v[1]);
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int id = kit::check(::semget(IPC_PRIVATE, 2, IPC_CREAT | 0600), "semget");
        auto removal = kit::sem_guard(id);  // IPC_RMID on an error path too
        unsigned short init[2] = {1, 0};    // semaphore 0 free, semaphore 1 taken
        ch04::semun arg{};
        arg.array = init;
        kit::check(::semctl(id, 0, SETALL, arg), "semctl(SETALL)");
        show(id, "after semget + SETALL:");

        sembuf both[2] = {{0, -1, IPC_NOWAIT}, {1, -1, IPC_NOWAIT}};
        if (::semop(id, both, 2) == -1 && errno == EAGAIN)
            show(id, "semop {0:-1, 1:-1} IPC_NOWAIT -> EAGAIN,");

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            sembuf wait_both[2] = {{0, -1, 0}, {1, -1, 0}};
            ::_exit(::semop(id, wait_both, 2) == 0 ? 0 : 1);
        }
        // semncnt counts processes asleep waiting for a semaphore to grow.
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (kit::check(::semctl(id, 1, GETNCNT), "semctl(GETNCNT)") == 0) {
            if (std::chrono::steady_clock::now() > end) throw kit::SysError(ETIMEDOUT, "GETNCNT");
            std::this_thread::yield();
        }
        show(id, "child asleep in semop (semncnt of 1 is 1):");
        // While it sleeps, semaphore 0 is still free for anyone else.
        sembuf take0{0, -1, IPC_NOWAIT}, give0{0, +1, 0};
        kit::check(::semop(id, &take0, 1), "semop(take 0)");
        kit::check(::semop(id, &give0, 1), "semop(give 0)");
        std::printf("parent took and gave back semaphore 0 meanwhile\n");

        sembuf post1{1, +1, 0};
        kit::check(::semop(id, &post1, 1), "semop(post 1)");
        int status = 0;
        while (::waitpid(pid, &status, 0) == -1)
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");
        show(id, "child took both in one semop:");
        kit::check(::semctl(id, 0, IPC_RMID), "semctl(IPC_RMID)");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
