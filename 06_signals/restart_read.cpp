// restart_read.cpp — a signal that interrupts a blocking read() on a pipe:
// with SA_RESTART the kernel restarts the read after the handler and the
// caller never notices; without it read() returns -1 with errno EINTR.
// The parent sends SIGUSR1 only once the child is blocked inside read()
// (it watches /proc/<pid>/syscall), so the interruption is certain.
//
// Run:    ./restart_read restart        ./restart_read norestart
// Prints: child: read() restarted and returned 1 byte: 'x'
//         child: read() = -1, errno EINTR (Interrupted system call)
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

namespace {

int g_notify_fd = -1;

void on_usr1(int) {
    const int saved = errno;
    (void)!::write(g_notify_fd, "h", 1);  // async-signal-safe: tells the parent "handler ran"
    errno = saved;
}

int child(bool restart, int ready_fd, int data_fd) {
    struct sigaction sa {};
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");
    kit::check(::write(ready_fd, "r", 1), "write");

    char buf[16];
    ssize_t n = ::read(data_fd, buf, sizeof buf);  // blocks: the pipe is empty
    if (n == -1)
        std::printf("child: read() = -1, errno %s (%s)\n", ::strerrorname_np(errno),
                    std::strerror(errno));
    else
        std::printf("child: read() restarted and returned %zd byte: '%.*s'\n", n, int(n), buf);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "restart|norestart", [](auto args) {
        if (args.size() != 1 || (args[0] != "restart" && args[0] != "norestart"))
            throw kit::UsageError{"say restart or norestart"};
        int ready[2], data[2], notify[2];
        kit::check(::pipe(ready), "pipe");
        kit::check(::pipe(data), "pipe");
        kit::check(::pipe(notify), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::alarm(10);
            g_notify_fd = notify[1];
            int rc = child(args[0] == "restart", ready[1], data[0]);
            std::fflush(stdout);
            ::_exit(rc);
        }
        ::close(ready[1]);  // so that a child that dies early means EOF here, not a hang
        ::close(notify[1]);
        char c;
        if (kit::check(::read(ready[0], &c, 1), "read") != 1)
            throw kit::SysError(EPIPE, "child died");
        if (!kit::wait_in_syscall(pid, SYS_read))
            throw kit::SysError(ETIMEDOUT, "child not in read");
        kit::check(::kill(pid, SIGUSR1), "kill");
        if (kit::check(::read(notify[0], &c, 1), "read") != 1)  // the handler has run
            throw kit::SysError(EPIPE, "child died");
        // Keeps data[0] open here too, so this write cannot raise SIGPIPE.
        kit::check(::write(data[1], "x", 1), "write");
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    });
}
