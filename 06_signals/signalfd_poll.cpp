// signalfd_poll.cpp — signals as readable records: block the signals, create a
// signalfd for them, and let poll() report them like any other input. No
// handler runs, so nothing needs to be async-signal-safe; read() returns a
// struct signalfd_siginfo with the signal, the sender's pid and the payload.
// This replaces the self-pipe trick on Linux.
//
// Run:    ./signalfd_poll
// Prints: signalfd: SIGUSR1 from pid <child> (the child)
//         signalfd: SIGRTMIN+0 from pid <child> (the child), payload 42
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGRTMIN);
        // Blocked first: otherwise the default action (terminate) would run.
        kit::check(::sigprocmask(SIG_BLOCK, &set, nullptr), "sigprocmask");
        int sfd = kit::check(::signalfd(-1, &set, SFD_CLOEXEC), "signalfd");

        const pid_t parent = ::getpid();
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            bool ok = ::kill(parent, SIGUSR1) == 0 &&
                      ::sigqueue(parent, SIGRTMIN, sigval{.sival_int = 42}) == 0;
            ::_exit(ok ? 0 : 1);
        }

        int seen = 0;
        while (seen < 2) {
            pollfd p{sfd, POLLIN, 0};
            int n = ::poll(&p, 1, 5000);
            if (n == -1 && errno == EINTR) continue;
            if (kit::check(n, "poll") == 0) throw kit::SysError(ETIMEDOUT, "poll");
            signalfd_siginfo si[4];
            ssize_t got = kit::check(::read(sfd, si, sizeof si), "read");  // whole records only
            for (std::size_t i = 0; i < std::size_t(got) / sizeof si[0]; ++i, ++seen) {
                const bool rt = int(si[i].ssi_signo) == SIGRTMIN;
                std::printf("signalfd: %s from pid %u%s", rt ? "SIGRTMIN+0" : "SIGUSR1",
                            si[i].ssi_pid, pid_t(si[i].ssi_pid) == pid ? " (the child)" : "");
                if (rt) std::printf(", payload %d", si[i].ssi_int);
                std::printf("\n");
            }
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        ::close(sfd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    });
}
