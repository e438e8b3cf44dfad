// pipe_eof_broken.cpp — THE CLASSIC BUG: the reading process forgets to close
// the write end it holds after fork(). The child writes and exits, so no other
// process holds a write end, but the pipe still has a writer (the reader
// itself), so read() never returns 0. A real program would hang here forever;
// this one waits at most 500 ms (poll), reports the hang, then closes the stray
// end and sees EOF at once. Compare with pipe_eof_fixed.cpp.
//
// Run:    ./pipe_eof_broken
// Prints: reader: got 5 bytes "data!" (the writer has exited)
//         reader: no EOF within 500 ms: my own write end keeps the pipe open
//         reader: closed my write end, read() returned 0: EOF
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
        // The reader. BUG: no close(fds[1]) here.
        int status = 0;
        while (::waitpid(pid, &status, 0) == -1) {
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");
        }
        // The writer has exited: no other process holds a write end now.
        char buf[64];
        ssize_t n = bounded_read(fds[0], buf, sizeof buf, 5000);
        if (n < 0) throw kit::SysError(ETIMEDOUT, "read data");
        std::printf("reader: got %zd bytes \"%.*s\" (the writer has exited)\n", n, int(n), buf);
        const bool hung = bounded_read(fds[0], buf, sizeof buf, 500) == -2;
        if (hung)
            std::printf("reader: no EOF within 500 ms: my own write end keeps the pipe open\n");
        kit::check(::close(fds[1]), "close");
        const bool eof = bounded_read(fds[0], buf, sizeof buf, 5000) == 0;
        if (eof) std::printf("reader: closed my write end, read() returned 0: EOF\n");
        kit::check(::close(fds[0]), "close");
        const bool writer_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        return hung && eof && writer_ok ? 0 : 1;
    });
}
