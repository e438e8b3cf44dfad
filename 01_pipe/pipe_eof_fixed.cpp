// pipe_eof_fixed.cpp — the fix for pipe_eof_broken.cpp: right after fork() the
// reading process closes the write end it holds. When the child (the only
// writer) has written and exited, no write end is left and the next read()
// returns 0 (EOF).
//
// Run:    ./pipe_eof_fixed
// Prints: reader: got 5 bytes "data!"
//         reader: read() returned 0: EOF, as soon as the writer was gone
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

// read() that gives up after `ms` without data or EOF: -2 means "would hang".
ssize_t bounded_read(int fd, char* buf, std::size_t len, int ms) {
    pollfd p{fd, POLLIN, 0};
    int n;
    while ((n = ::poll(&p, 1, ms)) == -1 && errno == EINTR) {
    }
    if (kit::check(n, "poll") == 0) return -2;
    return kit::check(::read(fd, buf, len), "read");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int fds[2];
        kit::check(::pipe(fds), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // the writer: one message, then it is gone
            ::close(fds[0]);
            ::_exit(::write(fds[1], "data!", 5) == 5 ? 0 : 1);
        }
        kit::check(::close(fds[1]), "close");  // THE FIX: a reader holds no write end
        char buf[64];
        ssize_t n = bounded_read(fds[0], buf, sizeof buf, 5000);
        if (n < 0) throw kit::SysError(ETIMEDOUT, "read data");
        std::printf("reader: got %zd bytes \"%.*s\"\n", n, int(n), buf);
        n = bounded_read(fds[0], buf, sizeof buf, 5000);  // returns when the writer exits
        if (n == 0)
            std::printf("reader: read() returned 0: EOF, as soon as the writer was gone\n");
        else
            std::printf("reader: no EOF within 5 s\n");
        kit::check(::close(fds[0]), "close");
        int status = 0;
        while (::waitpid(pid, &status, 0) == -1) {
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");
        }
        return n == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
