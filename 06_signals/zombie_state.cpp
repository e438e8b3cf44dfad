// zombie_state.cpp — a child that has exited but is not yet reaped is a
// zombie: its /proc/<pid>/stat shows state Z, it keeps its pid, and
// kill(pid, 0) still finds it. waitpid() reaps it; then /proc/<pid> is gone.
// waitid(..., WEXITED | WNOWAIT) waits for the exit without reaping, so we
// look at the zombie exactly when it exists.
//
// Run:    ./zombie_state
// Prints: child <pid> exited, not reaped: state Z, kill(pid, 0) = 0
//         after waitpid (status 7): /proc/<pid> gone, kill(pid, 0) = -1 ESRCH
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/proc.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(7);

        siginfo_t info{};
        kit::check(::waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT), "waitid");  // not reaped
        std::printf("child %d exited, not reaped: state %c, kill(pid, 0) = %d\n", int(pid),
                    kit::process_state(pid), ::kill(pid, 0));

        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");  // reaps: the kernel frees the entry
        const char state = kit::process_state(pid);
        int rc = ::kill(pid, 0);
        const int err = errno;
        std::printf("after waitpid (status %d): /proc/%d %s, kill(pid, 0) = %d %s\n",
                    WEXITSTATUS(status), int(pid), state == '?' ? "gone" : "still there", rc,
                    rc == -1 ? ::strerrorname_np(err) : "");
        return 0;
    });
}
