// handler_errno_broken.cpp — THE BUG: a handler that makes a system call can
// overwrite the errno of the code it interrupted. Here the signal (sent by
// another process, held blocked) is delivered exactly between a failing open()
// and the line that reads errno — the unlucky moment, forced. The handler's
// close(-1) is async-signal-safe, yet it fails and leaves EBADF behind.
// The same reasoning is why printf() and malloc() are banned in handlers: they
// keep hidden state (a stdio buffer, a heap lock) that the interrupted code may
// be in the middle of changing (man 7 signal-safety lists what is allowed).
// Compare with handler_errno_fixed.cpp.
//
// Run:    ./handler_errno_broken
// Prints: open() failed, errno is now EBADF (Bad file descriptor)
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

// Broken: close(-1) is async-signal-safe, but it fails and sets errno.
void broken_handler(int) { ::close(-1); }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        struct sigaction sa {};
        sa.sa_handler = broken_handler;
        sigemptyset(&sa.sa_mask);
        kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");

        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        kit::check(::sigprocmask(SIG_BLOCK, &usr1, nullptr), "sigprocmask");

        // Another process sends SIGUSR1; it stays pending while blocked.
        const pid_t me = ::getpid();
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(::kill(me, SIGUSR1) == 0 ? 0 : 1);
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");

        int fd = ::open("/nonexistent/ipckit", O_RDONLY);  // fails: ENOENT
        // The signal arrives here: a pending signal that is unblocked is
        // delivered before sigprocmask() returns (which leaves errno alone).
        kit::check(::sigprocmask(SIG_UNBLOCK, &usr1, nullptr), "sigprocmask");
        if (fd == -1) {
            const int e = errno;
            std::printf("open() failed, errno is now %s (%s)\n", ::strerrorname_np(e),
                        ::strerror(e));
        }
        return 0;
    });
}
