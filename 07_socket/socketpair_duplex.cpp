// socketpair_duplex — one socketpair() is a two-way channel; a pipe() is one-way.
//
// Run:    ./socketpair_duplex
// Prints: both processes send first and read second on the same descriptor
//         (so both directions are in flight at once), then shows that writing
//         into a pipe's read end fails with EBADF.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace {

void send_text(int fd, std::string_view text) {
    kit::write_all(fd, std::as_bytes(std::span(text)));
}

std::string read_once(int fd) {
    char buf[128];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) == -1 && errno == EINTR) {
    }
    kit::check(n, "read");
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);

        int sv[2];
        kit::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        kit::Fd parent_end(sv[0]), child_end(sv[1]);

        std::fflush(nullptr);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            parent_end.reset();
            // Write before reading: if the channel were one-way this would
            // need a second channel; here the same fd carries both directions.
            send_text(child_end.get(), "hello from child " + std::to_string(::getpid()));
            std::string got = read_once(child_end.get());
            std::printf("child  read on fd %d: \"%s\"\n", child_end.get(), got.c_str());
            std::fflush(nullptr);
            ::_exit(0);
        }
        child_end.reset();
        send_text(parent_end.get(), "hello from parent");
        std::string got = read_once(parent_end.get());
        int ws = 0;
        kit::check(::waitpid(pid, &ws, 0), "waitpid");
        std::printf("parent read on fd %d: \"%s\"\n", parent_end.get(), got.c_str());
        std::printf("child exited %d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);

        // The contrast: each end of a pipe has one direction only.
        int p[2];
        kit::check(::pipe(p), "pipe");
        kit::Fd pipe_read(p[0]), pipe_write(p[1]);
        ssize_t n = ::write(pipe_read.get(), "x", 1);
        int err = errno;
        std::printf("pipe: write() on the read end -> %zd %s\n", n,
                    n == -1 ? strerrorname_np(err) : "(unexpected)");
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
    });
}
