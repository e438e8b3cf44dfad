// sigfpe_returns.cpp — can a SIGFPE handler make a division by zero harmless?
// No. The signal is raised by the faulting instruction itself, and returning
// from the handler resumes AT that instruction, which faults again. The only
// ways out are to end the process or to jump elsewhere (siglongjmp).
// This program counts the handler's entries for one division and escapes
// with siglongjmp on the third.
//
// Run:    ./sigfpe_returns
// Prints: SIGFPE handler entered 3 times for one division (si_code FPE_INTDIV); left by siglongjmp
#include <setjmp.h>
#include <signal.h>

#include <cstdio>

#include "kit/check.hpp"

namespace {

sigjmp_buf g_escape;
volatile sig_atomic_t g_entries = 0;
volatile sig_atomic_t g_code = 0;

void on_fpe(int, siginfo_t* info, void*) {
    g_entries = g_entries + 1;
    g_code = info->si_code;
    if (g_entries == 3) siglongjmp(g_escape, 1);  // never return: that would fault again
}

// The sanitizer would stop at the division itself; here the hardware must.
// Both operands are volatile and the function is not inlined: with a known
// dividend (1 / b) an optimiser may replace the division by comparisons.
[[gnu::noinline, gnu::no_sanitize("integer-divide-by-zero")]] int divide(volatile int& a,
                                                                         volatile int& b) {
    return a / b;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        struct sigaction sa {};
        sa.sa_sigaction = on_fpe;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        kit::check(::sigaction(SIGFPE, &sa, nullptr), "sigaction");

        volatile int one = 1, zero = 0;
        if (sigsetjmp(g_escape, 1) == 0) {
            int r = divide(one, zero);
            std::printf("division returned %d (never printed)\n", r);
            return 1;
        }
        std::printf(
            "SIGFPE handler entered %d times for one division (si_code %s); left by "
            "siglongjmp\n",
            int(g_entries), g_code == FPE_INTDIV ? "FPE_INTDIV" : "other");
        return 0;
    });
}
