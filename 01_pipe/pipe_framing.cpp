// pipe_framing.cpp — a pipe is a byte stream: it keeps the order of bytes but
// not the boundaries of write() calls. Two writes done before the reader
// reads come back from ONE read(). A length prefix restores the messages:
// the writer sends [4-byte length][bytes], the reader reads exactly that.
//
// Run:    ./pipe_framing
// Prints: raw:    2 writes ("hello", "world") -> 1 read of 10 bytes: "helloworld"
//         framed: "hello" "world"
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace {

// One message: its length, then its bytes (host byte order: both ends are on
// this machine).
void send_framed(int fd, std::string_view msg) {
    const auto len = static_cast<std::uint32_t>(msg.size());
    kit::write_all(fd, std::as_bytes(std::span(&len, 1)));
    kit::write_all(fd, std::as_bytes(std::span(msg)));
}

// The next message, or nothing at EOF. read_full loops over short reads:
// a message may arrive in pieces, or together with the next one.
std::optional<std::string> recv_framed(int fd) {
    std::uint32_t len = 0;
    if (kit::read_full(fd, std::as_writable_bytes(std::span(&len, 1))) != sizeof len)
        return std::nullopt;
    std::string msg(len, '\0');
    if (kit::read_full(fd, std::as_writable_bytes(std::span(msg))) != len)
        throw kit::SysError(EPROTO, "read (message cut short)");
    return msg;
}

// Runs `body` in a child that writes to fds[1], and waits until it has exited:
// everything it wrote is now in the pipe, before the parent reads anything.
template <class Body>
void write_from_child(const int (&fds)[2], Body body) {
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        ::close(fds[0]);
        body(fds[1]);
        ::_exit(0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) throw kit::SysError(errno, "waitpid");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw kit::SysError(EIO, "writer child");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int raw[2];
        kit::check(::pipe(raw), "pipe");
        write_from_child(raw, [](int fd) {
            kit::check(::write(fd, "hello", 5), "write");
            kit::check(::write(fd, "world", 5), "write");
        });
        char buf[64];
        ssize_t n = kit::check(::read(raw[0], buf, sizeof buf), "read");
        std::printf("raw:    2 writes (\"hello\", \"world\") -> 1 read of %zd bytes: \"%.*s\"\n", n,
                    int(n), buf);
        kit::check(::close(raw[0]), "close");
        kit::check(::close(raw[1]), "close");

        int framed[2];
        kit::check(::pipe(framed), "pipe");
        write_from_child(framed, [](int fd) {
            send_framed(fd, "hello");
            send_framed(fd, "world");
        });
        kit::check(::close(framed[1]), "close");  // so recv_framed ends at EOF
        std::printf("framed:");
        while (auto msg = recv_framed(framed[0])) std::printf(" \"%s\"", msg->c_str());
        std::printf("\n");
        kit::check(::close(framed[0]), "close");
        return 0;
    });
}
