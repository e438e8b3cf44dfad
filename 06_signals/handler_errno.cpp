// handler_errno.cpp — a broken/fixed pair: a handler that makes a system call
// can overwrite the errno of the code it interrupted. Here the signal (sent by
// another process, held blocked) is delivered exactly between a failing
// open() and the line that reads errno — the unlucky moment, forced.
// The same reasoning is why printf() and malloc() are banned in handlers: they
// keep hidden state (a stdio buffer, a heap lock) that the interrupted code may
// be in the middle of changing (man 7 signal-safety lists what is allowed).
//
// Run:    ./handler_errno broken      ./handler_errno fixed
// Prints: open() failed, errno is now EBADF (Bad file descriptor)       (broken)
//         open() failed, errno is now ENOENT (No such file or directory) (fixed)
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>

#include "kit/check.hpp"

namespace {

// Broken: close(-1) is async-signal-safe, but it fails and sets errno.
void broken_handler(int) { ::close(-1); }

// Fixed: the same work, with errno saved and restored around it.
void fixed_handler(int) {
    const int saved = errno;
    ::close(-1);
    errno = saved;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "broken|fixed", [](auto args) {
        if (args.size() != 1 || (args[0] != "broken" && args[0] != "fixed"))
            throw kit::UsageError{"say broken or fixed"};
        struct sigaction sa{};
        sa.sa_handler = args[0] == "broken" ? broken_handler : fixed_handler;
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
