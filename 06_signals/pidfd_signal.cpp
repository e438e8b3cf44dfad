// pidfd_signal.cpp — kill(pid, 0) sends nothing: it only asks "does pid exist
// and may I signal it?". A pid is just a number the kernel reuses, so kill(pid,
// sig) after the process has gone may hit a newcomer. A pidfd (pidfd_open,
// Linux 5.3) names one process for good: pidfd_send_signal() on it fails with
// ESRCH once that process is gone, and poll() says when it exits.
//
// Run:    ./pidfd_signal
// Prints: kill(<pid>, 0) = 0: exists, nothing sent
//         pidfd_send_signal(SIGTERM) = 0
//         poll(pidfd) readable: the child has exited
//         waitpid: killed by SIGTERM
//         after reaping: pidfd_send_signal = -1 ESRCH, kill(<pid>, 0) = -1 ESRCH
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

// The raw system calls: <sys/pidfd.h> of glibc 2.36 cannot be used from C++
// (it lacks extern "C"), and older C libraries have no wrappers at all.
int pidfd_open(pid_t pid, unsigned flags) { return int(::syscall(SYS_pidfd_open, pid, flags)); }
int pidfd_send_signal(int pidfd, int sig, siginfo_t* info, unsigned flags) {
    return int(::syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags));
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int hold[2];
        kit::check(::pipe(hold), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // waits for EOF on the pipe, which never comes: a signal ends it
            ::close(hold[1]);
            ::alarm(10);
            char c;
            (void)!::read(hold[0], &c, 1);
            ::_exit(0);
        }
        std::printf("kill(%d, 0) = %d: exists, nothing sent\n", int(pid), ::kill(pid, 0));

        int pidfd = kit::check(pidfd_open(pid, 0), "pidfd_open");
        kit::check(pidfd_send_signal(pidfd, SIGTERM, nullptr, 0), "pidfd_send_signal");
        std::printf("pidfd_send_signal(SIGTERM) = 0\n");

        pollfd p{pidfd, POLLIN, 0};
        int n;
        while ((n = ::poll(&p, 1, 5000)) == -1 && errno == EINTR) {
        }
        if (kit::check(n, "poll") == 0) throw kit::SysError(ETIMEDOUT, "poll(pidfd)");
        std::printf("poll(pidfd) readable: the child has exited\n");

        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        if (WIFSIGNALED(status))
            std::printf("waitpid: killed by SIG%s\n", ::sigabbrev_np(WTERMSIG(status)));

        int rc = pidfd_send_signal(pidfd, SIGTERM, nullptr, 0);
        const int e1 = errno;
        int rc0 = ::kill(pid, 0);  // could hit a recycled pid; the pidfd never can
        const int e2 = errno;
        std::printf("after reaping: pidfd_send_signal = %d %s, kill(%d, 0) = %d %s\n", rc,
                    rc == -1 ? ::strerrorname_np(e1) : "", int(pid), rc0,
                    rc0 == -1 ? ::strerrorname_np(e2) : "(pid reused by another process)");
        ::close(pidfd);
        ::close(hold[0]);
        ::close(hold[1]);
        return 0;
    });
}
