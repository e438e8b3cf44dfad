// sem_value_never_negative.cpp — popular notes say a P on a semaphore of 0
// makes it -1 and the value counts the waiters. On Linux the value never goes
// below 0: waiters are counted separately (System V: semncnt), and POSIX
// sem_getvalue reports 0 while processes are blocked.
//
// Run:    ./sem_value_never_negative
// Prints: "System V: 2 processes blocked in semop: semval 0, semncnt 2"
//         "POSIX:    1 process blocked in sem_wait: sem_getvalue 0"
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "sem_shared.hpp"

namespace {

void reap_ok(pid_t pid) {
    if (ch04::reap(pid) != 0) throw kit::SysError(ECHILD, "child");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        // System V: a new set starts at 0 on Linux; two children each do P.
        int id = kit::check(::semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), "semget");
        auto removal = kit::sem_guard(id);  // IPC_RMID on an error path too
        std::fflush(stdout);
        pid_t kids[2];
        for (pid_t& kid : kids) {
            kid = kit::check(::fork(), "fork");
            if (kid == 0) {
                sembuf p{0, -1, 0};
                ::_exit(::semop(id, &p, 1) == 0 ? 0 : 1);
            }
        }
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (kit::check(::semctl(id, 0, GETNCNT), "semctl(GETNCNT)") < 2) {
            if (std::chrono::steady_clock::now() > end) throw kit::SysError(ETIMEDOUT, "GETNCNT");
            std::this_thread::yield();
        }
        std::printf("System V: 2 processes blocked in semop: semval %d, semncnt %d\n",
                    kit::check(::semctl(id, 0, GETVAL), "semctl(GETVAL)"),
                    kit::check(::semctl(id, 0, GETNCNT), "semctl(GETNCNT)"));
        sembuf v{0, +2, 0};  // V twice in one operation: both wake
        kit::check(::semop(id, &v, 1), "semop");
        for (pid_t kid : kids) reap_ok(kid);
        kit::check(::semctl(id, 0, IPC_RMID), "semctl(IPC_RMID)");

        // POSIX: an unnamed semaphore of 0 in shared memory; one child waits.
        ch04::SharedMapping<sem_t> mem;  // shared with the waiting child
        sem_t* sem = mem.get();
        kit::check(::sem_init(sem, 1, 0), "sem_init");
        pid_t waiter = kit::check(::fork(), "fork");
        if (waiter == 0) {
            ::alarm(10);
            ::_exit(::sem_wait(sem) == 0 ? 0 : 1);
        }
        if (!kit::wait_until_blocked(waiter, "futex"))
            throw kit::SysError(ETIMEDOUT, "waiting for the child to block");
        int value = -1;
        kit::check(::sem_getvalue(sem, &value), "sem_getvalue");
        std::printf("POSIX:    1 process blocked in sem_wait: sem_getvalue %d\n", value);
        kit::check(::sem_post(sem), "sem_post");
        reap_ok(waiter);
        kit::check(::sem_destroy(sem), "sem_destroy");
        return 0;
    });
}
