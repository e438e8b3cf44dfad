// pipe_proc_fd.cpp — "only parent and child can use a pipe" is a myth: what
// counts is holding a file descriptor for it, and there is more than one way
// to get one. Here the holder creates a pipe with O_CLOEXEC and re-executes
// itself as a stranger: exec closes the pipe in the stranger (it inherits
// nothing), yet the stranger opens /proc/<holder>/fd/<n> — a path to the
// holder's write end — and writes into the same pipe. (Chapter 07 shows the
// other way: passing a descriptor over a Unix socket.)
//
// Run:    ./pipe_proc_fd
//         or by hand: start it with --hold, then in another terminal
//         echo hi > /proc/<pid>/fd/<n>     (the numbers it prints)
// Prints: stranger 1236: fd 4 is not open here (EBADF); opening /proc/1235/fd/4
//         holder 1235 read: "hello from a stranger"
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

namespace {

int stranger(std::string_view holder, std::string_view fd_text) {
    const int fd = static_cast<int>(kit::parse_long(fd_text, 0, 1 << 20));
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) throw kit::SysError(EEXIST, "inherited fd");
    const std::string path = "/proc/" + std::string(holder) + "/fd/" + std::to_string(fd);
    std::printf("stranger %d: fd %d is not open here (EBADF); opening %s\n", int(::getpid()), fd,
                path.c_str());
    std::fflush(stdout);
    kit::Fd w(kit::check(::open(path.c_str(), O_WRONLY | O_CLOEXEC), "open"));
    const std::string_view msg = "hello from a stranger";
    kit::write_all(w.get(), std::as_bytes(std::span(msg)));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[--hold | --stranger PID FD]", [argv](auto args) {
        if (args.size() == 3 && args[0] == "--stranger") return stranger(args[1], args[2]);
        const bool hold = args.size() == 1 && args[0] == "--hold";
        if (!args.empty() && !hold) throw kit::UsageError{};

        int fds[2];
        kit::check(::pipe2(fds, O_CLOEXEC), "pipe2");  // not inherited across exec
        const std::string me = std::to_string(::getpid()), wfd = std::to_string(fds[1]);
        pid_t pid = -1;
        if (hold) {
            std::printf("holder %s: write into /proc/%s/fd/%s from anywhere\n", me.c_str(),
                        me.c_str(), wfd.c_str());
        } else {
            std::fflush(stdout);
            pid = kit::check(::fork(), "fork");
            if (pid == 0) {
                ::execl("/proc/self/exe", argv[0], "--stranger", me.c_str(), wfd.c_str(),
                        static_cast<char*>(nullptr));
                ::_exit(127);
            }
        }
        std::fflush(stdout);
        // The holder keeps its write end: the stranger opens it through /proc
        // while it is open, so EOF cannot tell us it is done: one atomic
        // write of a short message arrives in one read().
        if (!hold && !kit::wait_readable(fds[0]))
            throw kit::SysError(ETIMEDOUT, "wait for stranger");
        char buf[PIPE_BUF];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) == -1 && errno == EINTR) {
        }
        kit::check(n, "read");
        std::printf("holder %s read: \"%.*s\"\n", me.c_str(), int(n), buf);
        if (pid > 0) {
            int status = 0;
            while (::waitpid(pid, &status, 0) == -1) {
                if (errno != EINTR) throw kit::SysError(errno, "waitpid");
            }
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
        }
        return 0;
    });
}
