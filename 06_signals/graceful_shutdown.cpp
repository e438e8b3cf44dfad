// graceful_shutdown.cpp — SIGTERM is a request, not an execution: a worker
// installs a handler with sigaction(), the handler only sets a
// volatile sig_atomic_t flag, and the worker finishes its work and exits 0.
// The worker waits with sigsuspend(), which unblocks SIGTERM and sleeps in one
// atomic step, so a SIGTERM can never slip in between "check flag" and "sleep".
//
// Run:    ./graceful_shutdown
// Prints: worker <pid>: ready
//         parent: kill(<pid>, SIGTERM)
//         worker <pid>: SIGTERM caught, flushing and exiting
//         parent: worker exited with status 0
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

volatile sig_atomic_t g_stop = 0;  // the only thing the handler touches

void on_term(int) { g_stop = 1; }

int worker(int ready_fd) {
    struct sigaction sa {};
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    kit::check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");

    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    kit::check(::sigprocmask(SIG_BLOCK, &term, &old), "sigprocmask");  // hold it until we wait

    std::printf("worker %d: ready\n", int(::getpid()));
    std::fflush(stdout);
    kit::check(::write(ready_fd, "r", 1), "write");
    while (!g_stop) ::sigsuspend(&old);  // returns -1/EINTR after the handler ran
    std::printf("worker %d: SIGTERM caught, flushing and exiting\n", int(::getpid()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int ready[2];
        kit::check(::pipe(ready), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::close(ready[0]);
            ::alarm(10);  // never outlive a broken parent
            int rc = worker(ready[1]);
            std::fflush(stdout);
            ::_exit(rc);
        }
        ::close(ready[1]);
        char byte;
        ssize_t n;
        while ((n = ::read(ready[0], &byte, 1)) == -1 && errno == EINTR) {
        }
        if (kit::check(n, "read") != 1) throw kit::SysError(EPIPE, "worker died before ready");

        std::printf("parent: kill(%d, SIGTERM)\n", int(pid));
        std::fflush(stdout);
        kit::check(::kill(pid, SIGTERM), "kill");
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        if (WIFEXITED(status))
            std::printf("parent: worker exited with status %d\n", WEXITSTATUS(status));
        else
            std::printf("parent: worker killed by signal %d\n", WTERMSIG(status));
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
