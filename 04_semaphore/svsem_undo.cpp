// svsem_undo.cpp — SEM_UNDO: the kernel undoes a process's semaphore
// operations when it dies, even by SIGKILL, so a killed holder does not keep
// the semaphore forever. Without SEM_UNDO nobody gives it back.
//
// A child takes semaphore 0 with SEM_UNDO and semaphore 1 without it, tells
// the parent through a pipe, and is killed with SIGKILL while holding both.
//
// Run:    ./svsem_undo
// Prints: "sem 0 (SEM_UNDO):    1  released by the kernel"
//         "sem 1 (no SEM_UNDO): 0  still taken, semop IPC_NOWAIT -> EAGAIN"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "sem_shared.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int id = kit::check(::semget(IPC_PRIVATE, 2, IPC_CREAT | 0600), "semget");
        auto removal = kit::sem_guard(id);  // IPC_RMID on an error path too
        unsigned short init[2] = {1, 1};
        ch04::semun arg{};
        arg.array = init;
        kit::check(::semctl(id, 0, SETALL, arg), "semctl(SETALL)");

        int fds[2];
        kit::check(::pipe(fds), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            sembuf take[2] = {{0, -1, SEM_UNDO}, {1, -1, 0}};
            if (::semop(id, take, 2) == -1) ::_exit(1);
            char held = 'h';
            if (::write(fds[1], &held, 1) != 1) ::_exit(1);
            ::alarm(10);  // a bound, should the parent never kill us
            for (;;) ::pause();
        }
        ::close(fds[1]);
        char held = 0;
        ssize_t n = 0;
        while ((n = ::read(fds[0], &held, 1)) == -1 && errno == EINTR) {
        }
        if (kit::check(n, "read") != 1)
            throw kit::SysError(ECHILD, "child did not take the semaphores");
        std::printf("child %d holds both (values now %d %d), SIGKILL\n", int(pid),
                    kit::check(::semctl(id, 0, GETVAL), "semctl(GETVAL)"),
                    kit::check(::semctl(id, 1, GETVAL), "semctl(GETVAL)"));
        kit::check(::kill(pid, SIGKILL), "kill");
        int status = 0;
        while (::waitpid(pid, &status, 0) == -1)
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");

        std::printf("sem 0 (SEM_UNDO):    %d  released by the kernel\n",
                    kit::check(::semctl(id, 0, GETVAL), "semctl(GETVAL)"));
        sembuf try1{1, -1, IPC_NOWAIT};
        const int rc = ::semop(id, &try1, 1);
        std::printf("sem 1 (no SEM_UNDO): %d  still taken, semop IPC_NOWAIT -> %s\n",
                    kit::check(::semctl(id, 1, GETVAL), "semctl(GETVAL)"),
                    rc == -1 && errno == EAGAIN ? "EAGAIN" : "succeeded");
        ::close(fds[0]);
        kit::check(::semctl(id, 0, IPC_RMID), "semctl(IPC_RMID)");
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 1;
    });
}
