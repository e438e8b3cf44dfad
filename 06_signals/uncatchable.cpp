// uncatchable.cpp — SIGKILL and SIGSTOP cannot be caught, blocked or ignored:
// sigaction() refuses with EINVAL, and sigprocmask() silently leaves them out.
// SIGTERM, the default of kill(1), is an ordinary signal: it can be caught or
// ignored, which is what makes a graceful shutdown possible.
//
// Run:    ./uncatchable
// Prints: sigaction(SIGKILL, handler) = -1 EINVAL
//         sigaction(SIGKILL, SIG_IGN) = -1 EINVAL
//         sigaction(SIGSTOP, handler) = -1 EINVAL
//         sigaction(SIGSTOP, SIG_IGN) = -1 EINVAL
//         sigaction(SIGTERM, handler) = 0
//         sigaction(SIGTERM, SIG_IGN) = 0
//         after blocking everything, SIGKILL blocked: no, SIGSTOP blocked: no
#include <signal.h>
#include <string.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

void on_signal(int) {}

void try_install(int sig, bool ignore) {
    struct sigaction sa {};
    sa.sa_handler = ignore ? SIG_IGN : on_signal;
    sigemptyset(&sa.sa_mask);
    int rc = ::sigaction(sig, &sa, nullptr);
    std::printf("sigaction(SIG%s, %s) = %d%s%s\n", ::sigabbrev_np(sig),
                ignore ? "SIG_IGN" : "handler", rc, rc == -1 ? " " : "",
                rc == -1 ? ::strerrorname_np(errno) : "");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        for (int sig : {SIGKILL, SIGSTOP, SIGTERM}) {
            try_install(sig, false);
            try_install(sig, true);
        }
        sigset_t all, now;
        sigfillset(&all);
        kit::check(::sigprocmask(SIG_BLOCK, &all, nullptr), "sigprocmask");
        kit::check(::sigprocmask(SIG_BLOCK, nullptr, &now), "sigprocmask");  // read the mask back
        std::printf("after blocking everything, SIGKILL blocked: %s, SIGSTOP blocked: %s\n",
                    sigismember(&now, SIGKILL) ? "yes" : "no",
                    sigismember(&now, SIGSTOP) ? "yes" : "no");
        return 0;
    });
}
