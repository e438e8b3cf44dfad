// default_action.cpp — what SIGUSR1 and SIGUSR2 do when nobody handles them:
// their default action is to terminate the process (man 7 signal, "Term"),
// not "nothing". A child that installs no handler waits; the parent sends it
// the signal and waitpid() reports how it ended (WIFSIGNALED, WTERMSIG).
// Handle or block SIGUSR1 before anyone may send it, or it kills you.
//
// Run:    ./default_action
// Prints: SIGUSR1, no handler: child killed by signal 10 (SIGUSR1)
//         SIGUSR2, no handler: child killed by signal 12 (SIGUSR2)
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

// Sends `sig` to a child that left it at its default; returns true if the
// child was killed by it.
bool killed_by_default(int sig) {
    int ready[2];
    kit::check(::pipe(ready), "pipe");
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        ::close(ready[0]);
        ::alarm(10);  // never outlive a broken parent
        struct sigaction sa {};
        sa.sa_handler = SIG_DFL;  // what a program that installs nothing has
        sigemptyset(&sa.sa_mask);
        if (::sigaction(sig, &sa, nullptr) == -1) ::_exit(1);
        if (::write(ready[1], "r", 1) != 1) ::_exit(1);
        for (;;) ::pause();  // only a signal ends this
    }
    ::close(ready[1]);
    char byte;
    ssize_t n;
    while ((n = ::read(ready[0], &byte, 1)) == -1 && errno == EINTR) {
    }
    kit::check(n, "read");
    ::close(ready[0]);
    kit::check(::kill(pid, sig), "kill");
    int status = 0;
    kit::check(::waitpid(pid, &status, 0), "waitpid");
    if (WIFSIGNALED(status))
        std::printf("SIG%s, no handler: child killed by signal %d (SIG%s)\n", ::sigabbrev_np(sig),
                    WTERMSIG(status), ::sigabbrev_np(WTERMSIG(status)));
    else
        std::printf("SIG%s, no handler: child exited %d\n", ::sigabbrev_np(sig),
                    WEXITSTATUS(status));
    return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        bool all = true;
        for (int sig : {SIGUSR1, SIGUSR2}) all = killed_by_default(sig) && all;
        return all ? 0 : 1;
    });
}
