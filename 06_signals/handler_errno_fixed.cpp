// handler_errno_fixed.cpp — THE FIX for handler_errno_broken.cpp: the handler
// does the same failing close(-1), but saves errno on entry and restores it on
// the way out, so the interrupted code still reads the errno of its own open().
// The signal is delivered at the same forced moment as in the broken program.
//
// Run:    ./handler_errno_fixed
// Prints: open() failed, errno is now ENOENT (No such file or directory)
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

// Fixed: the same work, with errno saved and restored around it.
void fixed_handler(int) {
    const int saved = errno;
    ::close(-1);
    errno = saved;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        struct sigaction sa {};
        sa.sa_handler = fixed_handler;
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
