// pipe_sigpipe.cpp — writing to a pipe whose read ends are all closed. By
// default the kernel sends SIGPIPE, which kills the writer (signal 13). A
// writer that ignores SIGPIPE gets write() = -1 with errno EPIPE instead.
// The other direction is gentle: reading a pipe with no writer left returns 0.
//
// Run:    ./pipe_sigpipe
// Prints: default:        writer killed by signal 13 (Broken pipe)
//         SIGPIPE ignored: write() = -1, errno EPIPE (Broken pipe)
//         no writer left:  read() = 0 (EOF)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"

namespace {

// A child writes to a pipe whose read end is already closed; returns its
// wait status. With ignore=true it ignores SIGPIPE and exits with the errno.
int write_to_readerless_pipe(bool ignore) {
    int fds[2];
    kit::check(::pipe(fds), "pipe");
    kit::check(::close(fds[0]), "close");  // no reader anywhere
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        // Explicit both ways: a disposition of SIG_IGN survives exec, so this
        // program may have been started with SIGPIPE already ignored.
        ::signal(SIGPIPE, ignore ? SIG_IGN : SIG_DFL);
        ssize_t n = ::write(fds[1], "x", 1);
        ::_exit(n == -1 ? errno : 0);  // not reached without SIG_IGN
    }
    kit::check(::close(fds[1]), "close");
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) throw kit::SysError(errno, "waitpid");
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int s = write_to_readerless_pipe(false);
        if (WIFSIGNALED(s))
            std::printf("default:        writer killed by signal %d (%s)\n", WTERMSIG(s),
                        strsignal(WTERMSIG(s)));
        else
            std::printf("default:        writer exited %d\n", WEXITSTATUS(s));

        s = write_to_readerless_pipe(true);
        if (WIFEXITED(s) && WEXITSTATUS(s) != 0)
            std::printf("SIGPIPE ignored: write() = -1, errno %s (%s)\n",
                        strerrorname_np(WEXITSTATUS(s)), std::strerror(WEXITSTATUS(s)));

        int fds[2];
        kit::check(::pipe(fds), "pipe");
        kit::check(::close(fds[1]), "close");  // no writer anywhere
        char c;
        ssize_t n = kit::check(::read(fds[0], &c, 1), "read");
        std::printf("no writer left:  read() = %zd (EOF)\n", n);
        kit::check(::close(fds[0]), "close");
        return 0;
    });
}
