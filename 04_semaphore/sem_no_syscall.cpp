// sem_no_syscall.cpp — POSIX sem_post/sem_wait are library functions, not
// system calls: glibc keeps the value in user memory and changes it with an
// atomic instruction; only a process that must sleep (or wake a sleeper)
// enters the kernel, with futex(). System V semop is a system call every time.
//
// Proof: a child installs a seccomp filter that traps EVERY system call except
// exit_group, then uses the semaphore. The trap handler records which call it
// was and exits with status 99. (Where seccomp is refused: "cannot show it here".)
//
// Run:    ./sem_no_syscall
// Prints: "uncontended sem_post, sem_wait x1000: finished, no system call"
//         "sem_wait on a semaphore of 0:           trapped on futex"
//         "System V semop (even IPC_NOWAIT):       trapped on semtimedop"
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit/seccomp.hpp"
#include "sem_shared.hpp"

namespace {

struct Shared {
    sem_t sem;
    long trapped_nr;  // the system call the filter caught, -1 if none
    int setup_errno;  // why the child could not install the filter
};
Shared* g_shared = nullptr;

void on_sigsys(int, siginfo_t* info, void*) {
    g_shared->trapped_nr = info->si_syscall;
    ::syscall(SYS_exit_group, 99);  // exit_group is the one call the filter allows
}

// From here on, any system call but exit_group raises SIGSYS. Returns 0 or
// why not (a container may refuse seccomp).
int forbid_system_calls() {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (::sigaction(SIGSYS, &sa, nullptr) == -1) return errno;
    return kit::forbid_system_calls(kit::OnSyscall::trap);
}

// Runs body in a child under the filter; returns "no system call" or the trapped call.
template <class Body>
const char* under_filter(Body body) {
    g_shared->trapped_nr = -1;
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        if ((g_shared->setup_errno = forbid_system_calls()) != 0) ::_exit(98);
        body();
        ::syscall(SYS_exit_group, 0);  // _exit could run sanitizer hooks that make calls
    }
    const int status = ch04::reap(pid);
    if (status == 0) return "finished, no system call";
    if (status == 98)
        throw kit::SysError(g_shared->setup_errno, "cannot show it here: seccomp refused: prctl");
    const long nr = g_shared->trapped_nr;
    return nr == SYS_futex        ? "trapped on futex"
           : nr == SYS_semop      ? "trapped on semop"
           : nr == SYS_semtimedop ? "trapped on semtimedop"
                                  : "ended otherwise";
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        ch04::SharedMapping<Shared> mem;  // the children report through it
        g_shared = mem.get();
        kit::check(::sem_init(&g_shared->sem, 1, 0), "sem_init");

        std::printf("uncontended sem_post, sem_wait x1000: %s\n", under_filter([] {
                        for (int i = 0; i < 1000; ++i) {
                            ::sem_post(&g_shared->sem);
                            ::sem_wait(&g_shared->sem);
                        }
                    }));
        std::printf("sem_wait on a semaphore of 0:           %s\n",
                    under_filter([] { ::sem_wait(&g_shared->sem); }));

        int id = kit::check(::semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), "semget");
        auto removal = kit::sem_guard(id);
        std::printf("System V semop (even IPC_NOWAIT):       %s\n", under_filter([id] {
                        sembuf v{0, +1, IPC_NOWAIT};
                        ::semop(id, &v, 1);
                    }));
        kit::check(::semctl(id, 0, IPC_RMID), "semctl(IPC_RMID)");
        kit::check(::sem_destroy(&g_shared->sem), "sem_destroy");
        return 0;
    });
}
