// never_restarted.cpp — SA_RESTART does not restart every call. poll() and
// nanosleep() (and select, epoll_wait, sigsuspend...) fail with EINTR after a
// handler even when it was installed with SA_RESTART (man 7 signal, "Interruption
// of system calls and library functions by signal handlers"). nanosleep also
// reports how much of the interval was left.
//
// Run:    ./never_restarted
// Prints: poll: EINTR despite SA_RESTART
//         nanosleep: EINTR despite SA_RESTART (remaining > 0: yes)
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

namespace {

void on_usr1(int) {}

int child(int ready_fd, int idle_fd) {
    struct sigaction sa {};
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;  // ask for restarting: these two calls ignore it
    sigemptyset(&sa.sa_mask);
    kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");

    kit::check(::write(ready_fd, "p", 1), "write");
    pollfd p{idle_fd, POLLIN, 0};  // nothing will ever arrive on idle_fd
    int rc = ::poll(&p, 1, 20'000);
    std::printf("poll: %s despite SA_RESTART\n", rc == -1 ? ::strerrorname_np(errno) : "returned");
    std::fflush(stdout);

    kit::check(::write(ready_fd, "n", 1), "write");
    timespec want{20, 0}, left{};
    rc = ::nanosleep(&want, &left);
    std::printf("nanosleep: %s despite SA_RESTART (remaining > 0: %s)\n",
                rc == -1 ? ::strerrorname_np(errno) : "returned",
                left.tv_sec > 0 || left.tv_nsec > 0 ? "yes" : "no");
    return 0;
}

// Waits until the child is blocked in call `nr`, then interrupts it.
void interrupt(int ready_fd, pid_t pid, long nr) {
    char c;
    if (kit::check(::read(ready_fd, &c, 1), "read") != 1) throw kit::SysError(EPIPE, "child died");
    if (!kit::wait_in_syscall(pid, nr)) throw kit::SysError(ETIMEDOUT, "child not blocked");
    kit::check(::kill(pid, SIGUSR1), "kill");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int ready[2], idle[2];
        kit::check(::pipe(ready), "pipe");
        kit::check(::pipe(idle), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::alarm(10);
            int rc = child(ready[1], idle[0]);
            std::fflush(stdout);
            ::_exit(rc);
        }
        ::close(ready[1]);  // so that a child that dies early means EOF here, not a hang
        interrupt(ready[0], pid, SYS_poll);
        interrupt(ready[0], pid, SYS_clock_nanosleep);  // glibc's nanosleep() calls clock_nanosleep
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    });
}
