// self_pipe_fixed.cpp — THE FIX for self_pipe_broken.cpp, the self-pipe trick:
// the handler write()s a byte into a non-blocking pipe that poll() watches, so
// a signal that arrives before poll() leaves the byte there and poll() returns
// at once. The signal is let in at the same forced moment as in the broken
// program: between the loop's check and poll().
//
// Run:    ./self_pipe_fixed
// Prints: pipe: poll() returned 1 at once: self-pipe readable, signal seen
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

int g_self_pipe_write = -1;

void write_byte(int) {
    const int saved = errno;
    (void)!::write(g_self_pipe_write, "s", 1);  // non-blocking: a full pipe already means "woken"
    errno = saved;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int self_pipe[2], work[2];
        kit::check(::pipe2(self_pipe, O_NONBLOCK | O_CLOEXEC), "pipe2");
        kit::check(::pipe(work), "pipe");  // the loop's real work; nothing arrives there
        g_self_pipe_write = self_pipe[1];

        struct sigaction sa {};
        sa.sa_handler = write_byte;
        sigemptyset(&sa.sa_mask);
        kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        kit::check(::sigprocmask(SIG_BLOCK, &usr1, nullptr), "sigprocmask");
        const pid_t me = ::getpid();
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(::kill(me, SIGUSR1) == 0 ? 0 : 1);
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");  // SIGUSR1 is now pending

        // One turn of the event loop: the signal arrives between here and poll().
        kit::check(::sigprocmask(SIG_UNBLOCK, &usr1, nullptr), "sigprocmask");
        pollfd fds[2] = {{work[0], POLLIN, 0}, {self_pipe[0], POLLIN, 0}};
        int n;
        while ((n = ::poll(fds, 2, 300)) == -1 && errno == EINTR) {
        }
        kit::check(n, "poll");
        if (n > 0 && (fds[1].revents & POLLIN)) {
            char buf[64];
            kit::check(::read(self_pipe[0], buf, sizeof buf), "read");  // drain
            std::printf("pipe: poll() returned %d at once: self-pipe readable, signal seen\n", n);
        } else {
            std::printf("pipe: poll() returned %d without the self-pipe: wake-up lost\n", n);
            return 1;
        }
        return 0;
    });
}
