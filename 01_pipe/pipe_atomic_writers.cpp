// pipe_atomic_writers.cpp — several writer processes share one pipe. Each
// writes records that are one letter repeated (writer 0: "AAAA...", writer 1:
// "BBBB..."), one write() per record. The reader cuts the stream into records
// of the same size and counts the torn ones (mixed letters). POSIX and Linux
// promise that a write of at most PIPE_BUF (4096) bytes is never interleaved
// with other writes; above PIPE_BUF there is no such promise.
//
// Run:    ./pipe_atomic_writers [WRITERS [RECORDS [SIZE]]]     (default 4 50 4096)
//         ./pipe_atomic_writers 4 50 100000    (records > PIPE_BUF: usually torn)
// Prints: 4 writers x 50 records of 4096 bytes: 200 records read, 0 torn
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[WRITERS [RECORDS [SIZE]]]", [](auto args) {
        if (args.size() > 3) throw kit::unexpected(args[3]);
        const long writers = args.size() > 0 ? kit::parse_long(args[0], 1, 26) : 4;
        const long records = args.size() > 1 ? kit::parse_long(args[1], 1, 100000) : 50;
        const long size = args.size() > 2 ? kit::parse_long(args[2], 1, 1 << 20) : PIPE_BUF;

        int fds[2];
        kit::check(::pipe(fds), "pipe");
        std::fflush(stdout);
        std::vector<pid_t> pids;
        for (long w = 0; w < writers; ++w) {
            pid_t pid = kit::check(::fork(), "fork");
            if (pid == 0) {
                ::close(fds[0]);
                std::vector<char> rec(static_cast<std::size_t>(size), static_cast<char>('A' + w));
                for (long r = 0; r < records; ++r) {
                    // Blocking mode: write() returns only when all bytes are in,
                    // but above PIPE_BUF it may put them in several pieces.
                    ssize_t n = ::write(fds[1], rec.data(), rec.size());
                    if (n != size) ::_exit(1);
                }
                ::_exit(0);
            }
            pids.push_back(pid);
        }
        kit::check(::close(fds[1]), "close");  // EOF once every writer has exited

        long read_records = 0, torn = 0;
        std::vector<char> rec(static_cast<std::size_t>(size));
        while (kit::read_full(fds[0], std::as_writable_bytes(std::span(rec))) == rec.size()) {
            ++read_records;
            if (std::count(rec.begin(), rec.end(), rec[0]) != size) ++torn;
        }
        kit::check(::close(fds[0]), "close");

        bool writers_ok = true;
        for (pid_t pid : pids) {
            int status = 0;
            while (::waitpid(pid, &status, 0) == -1) {
                if (errno != EINTR) throw kit::SysError(errno, "waitpid");
            }
            writers_ok = writers_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::printf("%ld writers x %ld records of %ld bytes: %ld records read, %ld torn\n", writers,
                    records, size, read_records, torn);
        return writers_ok && read_records == writers * records ? 0 : 1;
    });
}
