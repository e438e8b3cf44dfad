// reap_loop.cpp — SIGCHLD is a standard signal, so it coalesces: five
// children that exit while SIGCHLD is blocked raise ONE SIGCHLD. A handler
// that reaps one child per signal leaves four zombies; the correct handler
// loops on waitpid(-1, &status, WNOHANG) until it returns 0 (children still
// running) or -1/ECHILD (none left).
//
// Run:    ./reap_loop [children]        (1..50, default 5)
// Prints: 5 children exited while SIGCHLD was blocked
//         SIGCHLD handler ran 1 time, reaped 5 children in its waitpid loop
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

volatile sig_atomic_t g_calls = 0;
volatile sig_atomic_t g_reaped = 0;

void on_chld(int) {
    const int saved = errno;
    g_calls = g_calls + 1;
    int status;
    while (::waitpid(-1, &status, WNOHANG) > 0) g_reaped = g_reaped + 1;  // every child, not one
    errno = saved;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[children]", [](auto args) {
        if (args.size() > 1) throw kit::UsageError{"at most one argument"};
        const int n = args.empty() ? 5 : int(kit::parse_long(args[0], 1, 50));
        struct sigaction sa {};
        sa.sa_handler = on_chld;
        sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
        sigemptyset(&sa.sa_mask);
        kit::check(::sigaction(SIGCHLD, &sa, nullptr), "sigaction");

        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        kit::check(::sigprocmask(SIG_BLOCK, &chld, nullptr), "sigprocmask");
        std::fflush(stdout);
        for (int i = 0; i < n; ++i) {
            pid_t pid = kit::check(::fork(), "fork");
            if (pid == 0) ::_exit(0);
            siginfo_t info{};  // wait for this exit without reaping it
            kit::check(::waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT), "waitid");
        }
        std::printf("%d children exited while SIGCHLD was blocked\n", n);
        kit::check(::sigprocmask(SIG_UNBLOCK, &chld, nullptr), "sigprocmask");  // delivered here
        std::printf("SIGCHLD handler ran %d time%s, reaped %d children in its waitpid loop\n",
                    int(g_calls), g_calls == 1 ? "" : "s", int(g_reaped));
        return g_reaped == n ? 0 : 1;
    });
}
