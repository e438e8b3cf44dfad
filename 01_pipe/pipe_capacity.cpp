// pipe_capacity.cpp — how many bytes a pipe holds before write() would block.
// Measured, not assumed: with O_NONBLOCK, write one byte at a time until the
// kernel answers EAGAIN. Then compare with fcntl(F_GETPIPE_SZ). With a SIZE
// argument the program first asks for that capacity with F_SETPIPE_SZ, which
// rounds up to a power-of-two number of pages and refuses sizes above
// /proc/sys/fs/pipe-max-size (EPERM) unless the caller has CAP_SYS_RESOURCE.
//
// Run:    ./pipe_capacity            ./pipe_capacity 5000
// Prints: capacity: 65536 bytes (F_GETPIPE_SZ: 65536, PIPE_BUF: 4096)
//         with 5000: "F_SETPIPE_SZ 5000 -> 8192" first, then capacity: 8192 bytes
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[SIZE]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        int fds[2];
        kit::check(::pipe2(fds, O_NONBLOCK), "pipe2");
        if (!args.empty()) {
            const long want = kit::parse_long(args[0], 1, 1L << 30);
            // F_SETPIPE_SZ returns the capacity actually set.
            int got = kit::check(::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(want)),
                                 "fcntl F_SETPIPE_SZ");
            std::printf("F_SETPIPE_SZ %ld -> %d\n", want, got);
        }

        long capacity = 0;
        for (;;) {
            ssize_t n = ::write(fds[1], "x", 1);
            if (n == 1) {
                ++capacity;
                continue;
            }
            if (n == -1 && errno == EAGAIN) break;  // full: a blocking write would wait here
            kit::check(n, "write");
        }
        int reported = kit::check(::fcntl(fds[1], F_GETPIPE_SZ), "fcntl F_GETPIPE_SZ");
        std::printf("capacity: %ld bytes (F_GETPIPE_SZ: %d, PIPE_BUF: %d)\n", capacity, reported,
                    PIPE_BUF);
        kit::check(::close(fds[0]), "close");
        kit::check(::close(fds[1]), "close");
        return capacity == reported ? 0 : 1;
    });
}
