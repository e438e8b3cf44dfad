// self_pipe.cpp — a broken/fixed pair for a poll() loop that must also react
// to signals. Broken ("flag"): the handler sets a flag and the loop checks it
// before calling poll(); a signal arriving between the check and poll() is
// seen only when poll() times out. Fixed ("pipe", the self-pipe trick): the
// handler write()s a byte into a pipe that poll() watches, so the wake-up
// cannot be lost. The signal (sent by another process, held blocked) is let in
// exactly between the check and poll() — the unlucky moment, forced.
//
// Run:    ./self_pipe flag      ./self_pipe pipe
// Prints: flag: signal handled before poll() (flag = 1), poll() still slept until its
//               timeout (returned 0)
//         pipe: poll() returned 1 at once: self-pipe readable, signal seen
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

volatile sig_atomic_t g_flag = 0;
int g_self_pipe_write = -1;

void set_flag(int) { g_flag = 1; }

void write_byte(int) {
    const int saved = errno;
    (void)!::write(g_self_pipe_write, "s", 1);  // non-blocking: a full pipe already means "woken"
    errno = saved;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "flag|pipe", [](auto args) {
        if (args.size() != 1 || (args[0] != "flag" && args[0] != "pipe"))
            throw kit::UsageError{"say flag or pipe"};
        const bool use_pipe = args[0] == "pipe";
        int self_pipe[2], work[2];
        kit::check(::pipe2(self_pipe, O_NONBLOCK | O_CLOEXEC), "pipe2");
        kit::check(::pipe(work), "pipe");  // the loop's real work; nothing arrives there
        g_self_pipe_write = self_pipe[1];

        struct sigaction sa{};
        sa.sa_handler = use_pipe ? write_byte : set_flag;
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

        if (!g_flag) {  // one turn of the event loop
            kit::check(::sigprocmask(SIG_UNBLOCK, &usr1, nullptr), "sigprocmask");  // arrives here
            pollfd fds[2] = {{work[0], POLLIN, 0}, {self_pipe[0], POLLIN, 0}};
            int n;
            while ((n = ::poll(fds, use_pipe ? 2 : 1, 300)) == -1 && errno == EINTR) {
            }
            kit::check(n, "poll");
            if (use_pipe && n > 0 && (fds[1].revents & POLLIN)) {
                char buf[64];
                kit::check(::read(self_pipe[0], buf, sizeof buf), "read");  // drain
                std::printf("pipe: poll() returned %d at once: self-pipe readable, signal seen\n", n);
            } else {
                std::printf("flag: signal handled before poll() (flag = %d), poll() still slept "
                            "until its timeout (returned %d)\n", int(g_flag), n);
            }
        }
        return 0;
    });
}
