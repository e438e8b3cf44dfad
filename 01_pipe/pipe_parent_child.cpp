// pipe_parent_child.cpp — the parent writes into a pipe, its child reads until
// end-of-file. EOF comes only because every write end is closed: the child
// closes its inherited copy before reading, the parent closes its own when done.
//
// Run:    ./pipe_parent_child [MESSAGE]
// Prints: child 1235 read 13 bytes: "hello, child!"
//         child 1235 saw EOF: every write end is closed
//         parent 1234: child exited 0
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[MESSAGE]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        const std::string msg(args.empty() ? "hello, child!" : args[0]);

        int fds[2];
        kit::check(::pipe(fds), "pipe");  // fds[0] reads, fds[1] writes
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            // Without this close the child itself keeps the pipe writable
            // and its read() below would wait for EOF forever.
            ::close(fds[1]);
            std::string got;
            char buf[256];
            for (;;) {
                ssize_t n = ::read(fds[0], buf, sizeof buf);
                if (n == -1 && errno == EINTR) continue;
                if (n == -1) ::_exit(1);
                if (n == 0) break;  // EOF: no write end is open anywhere
                got.append(buf, static_cast<std::size_t>(n));
            }
            std::printf("child %d read %zu bytes: \"%s\"\n", int(::getpid()), got.size(),
                        got.c_str());
            std::printf("child %d saw EOF: every write end is closed\n", int(::getpid()));
            std::fflush(stdout);
            ::_exit(0);
        }
        kit::check(::close(fds[0]), "close");
        std::size_t done = 0;
        while (done < msg.size()) {
            ssize_t n = ::write(fds[1], msg.data() + done, msg.size() - done);
            if (n == -1 && errno == EINTR) continue;
            done += static_cast<std::size_t>(kit::check(n, "write"));
        }
        kit::check(::close(fds[1]), "close");  // the child's EOF

        int status = 0;
        while (::waitpid(pid, &status, 0) == -1) {
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");
        }
        std::printf("parent %d: child exited %d\n", int(::getpid()),
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
