// signal_numbers.cpp — the signal table of the running system, not of a
// textbook: numbers differ between architectures, so print them from
// <signal.h> and the C library (sigabbrev_np, strsignal).
//
// Run:    ./signal_numbers
// Prints: one line per standard signal, e.g. " 10  SIGUSR1   User defined signal 1",
//         then "real-time: SIGRTMIN=34 .. SIGRTMAX=64 (31 signals)" on x86-64 glibc.
#include <signal.h>
#include <string.h>

#include <array>
#include <cstdio>

#include "kit/check.hpp"

namespace {

// The signals the lesson talks about; the numbers come from the headers.
constexpr std::array kSignals{SIGHUP,  SIGINT,  SIGQUIT, SIGILL,  SIGABRT, SIGFPE,
                              SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM,
                              SIGTERM, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP};

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        for (int sig : kSignals) {
            const char* abbrev = ::sigabbrev_np(sig);  // "USR1" (glibc 2.32+)
            std::printf("%3d  SIG%-7s %s\n", sig, abbrev ? abbrev : "?", ::strsignal(sig));
        }
        // SIGRTMIN is a function call, not a constant: glibc keeps the first
        // real-time signals for its own threads (kernel 32, 33).
        std::printf("real-time: SIGRTMIN=%d .. SIGRTMAX=%d (%d signals)\n", SIGRTMIN, SIGRTMAX,
                    SIGRTMAX - SIGRTMIN + 1);
        return 0;
    });
}
