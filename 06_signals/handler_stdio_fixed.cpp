// handler_stdio_fixed.cpp — THE FIX for handler_stdio_broken.cpp: the handler
// only write()s, which is async-signal-safe and keeps no hidden state, so its
// line survives even though it interrupts the same fflush() at the same forced
// moment (a stream whose write function we supply, fopencookie).
//
// Run:    ./handler_stdio_fixed
// Prints: handler line
//         main line one
//         main line two
//         the handler ran 1 time
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>

#include "kit/check.hpp"

namespace {

FILE* g_stream = nullptr;
volatile sig_atomic_t g_ran = 0;
sigset_t g_usr1;
bool g_armed = true;

constexpr std::string_view kHandlerLine = "handler line\n";

ssize_t device_write(void*, const char* buf, size_t n) {
    if (g_armed) {  // stdio is inside fflush(), the FILE half-updated: the signal arrives now
        g_armed = false;
        // Cannot fail: SIG_UNBLOCK of a valid set (its only error is EINVAL for a bad `how`).
        ::sigprocmask(SIG_UNBLOCK, &g_usr1, nullptr);
    }
    // A failed write returns -1 and stdio records it (ferror); no exception may
    // cross the C library's frames.
    return ::write(STDOUT_FILENO, buf, n);
}

void fixed_handler(int) {
    g_ran = g_ran + 1;
    (void)!::write(STDOUT_FILENO, kHandlerLine.data(), kHandlerLine.size());  // safe
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        cookie_io_functions_t io{};
        io.write = device_write;
        g_stream =
            kit::check(::fopencookie(nullptr, "w", io), static_cast<FILE*>(nullptr), "fopencookie");
        std::setvbuf(g_stream, nullptr, _IOFBF, 64);

        struct sigaction sa {};
        sa.sa_handler = fixed_handler;
        sigemptyset(&sa.sa_mask);
        kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");
        sigemptyset(&g_usr1);
        sigaddset(&g_usr1, SIGUSR1);
        kit::check(::sigprocmask(SIG_BLOCK, &g_usr1, nullptr), "sigprocmask");
        const pid_t me = ::getpid();
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(::kill(me, SIGUSR1) == 0 ? 0 : 1);
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");  // SIGUSR1 is now pending

        std::fprintf(g_stream, "main line one\nmain line two\n");
        if (std::fflush(g_stream) == EOF) throw kit::SysError(errno, "fflush");
        if (std::fclose(g_stream) == EOF) throw kit::SysError(errno, "fclose");
        std::printf("the handler ran %d time\n", int(g_ran));
        return 0;
    });
}
