// pipe_nonblock_write.cpp — where PIPE_BUF matters when the pipe is nearly
// full. With O_NONBLOCK, a write of at most PIPE_BUF bytes is all-or-nothing:
// if it does not fit, it fails with EAGAIN and writes nothing. A larger write
// is not atomic: into the very same room it takes what fits and returns a
// short count.
//
// Each pipe is first filled to a known amount (capacity minus ROOM), so the
// result is the same on every run.
//
// Run:    ./pipe_nonblock_write
// Prints: room 96 bytes: write(200) [<= PIPE_BUF] -> -1 EAGAIN, pipe holds 65440
//         room 96 bytes: write(4192) [>  PIPE_BUF] -> 96 (partial), pipe holds 65536
//         room 96 bytes: write(96) [<= PIPE_BUF] -> 96 (all), pipe holds 65536
//         room 4096 bytes: write(6000) [>  PIPE_BUF] -> 4096 (partial), pipe holds 65536
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace {

// A fresh non-blocking pipe holding capacity - room bytes.
kit::Pipe pipe_with_room(int room) {
    int fds[2];
    kit::check(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), "pipe2");
    kit::Pipe p{kit::Fd(fds[0]), kit::Fd(fds[1])};
    const int capacity = kit::check(::fcntl(fds[1], F_GETPIPE_SZ), "fcntl F_GETPIPE_SZ");
    std::vector<char> fill(static_cast<std::size_t>(capacity - room), 'f');
    kit::write_all(fds[1], std::as_bytes(std::span(fill)));
    return p;
}

int queued(int fd) {
    int n = 0;
    kit::check(::ioctl(fd, FIONREAD, &n), "ioctl FIONREAD");
    return n;
}

void try_write(int room, std::size_t len) {
    kit::Pipe p = pipe_with_room(room);
    std::vector<char> data(len, 'd');
    ssize_t n = ::write(p.write.get(), data.data(), data.size());
    const int err = errno;
    if (n == -1 && err != EAGAIN) throw kit::SysError(err, "write");
    std::printf("room %d bytes: write(%zu) [%s PIPE_BUF] -> %zd%s%s, pipe holds %d\n", room, len,
                len <= PIPE_BUF ? "<=" : "> ", n, n == -1 ? " " : "",
                n == -1 ? strerrorname_np(err) : (n < ssize_t(len) ? " (partial)" : " (all)"),
                queued(p.read.get()));
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        try_write(96, 200);            // small and does not fit: nothing written
        try_write(96, PIPE_BUF + 96);  // large, the same room: what fits is written
        try_write(96, 96);             // small and fits: all of it
        try_write(4096, 6000);         // large: a whole free page, the rest is not
        return 0;
    });
}
