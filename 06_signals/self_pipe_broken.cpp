// self_pipe_broken.cpp — THE BUG in a poll() loop that must also react to
// signals: the handler sets a flag and the loop checks it before calling
// poll(). A signal arriving between the check and poll() is seen only when
// poll() times out. The signal (sent by another process, held blocked) is let
// in exactly between the check and poll() — the unlucky moment, forced.
// Compare with self_pipe_fixed.cpp (the self-pipe trick).
//
// Run:    ./self_pipe_broken
// Prints: flag: signal handled before poll() (flag = 1), poll() still slept until its
//               timeout (returned 0)
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

volatile sig_atomic_t g_flag = 0;

void set_flag(int) { g_flag = 1; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int work[2];
        kit::check(::pipe(work), "pipe");  // the loop's real work; nothing arrives there

        struct sigaction sa {};
        sa.sa_handler = set_flag;
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

        if (!g_flag) {  // one turn of the event loop: no signal yet, so wait for work
            kit::check(::sigprocmask(SIG_UNBLOCK, &usr1, nullptr), "sigprocmask");  // arrives here
            pollfd fds[1] = {{work[0], POLLIN, 0}};
            int n;
            while ((n = ::poll(fds, 1, 300)) == -1 && errno == EINTR) {
            }
            kit::check(n, "poll");
            std::printf(
                "flag: signal handled before poll() (flag = %d), poll() still slept "
                "until its timeout (returned %d)\n",
                int(g_flag), n);
        }
        return 0;
    });
}
