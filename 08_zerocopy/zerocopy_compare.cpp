// zerocopy_compare.cpp — one file moved to a socket and to a pipe five ways
// (read+write, mmap+write, sendfile, splice, vmsplice+splice), and to another
// file with copy_file_range. A forked receiver drains each destination with
// read() and checksums what arrives; every path must deliver the same bytes.
// The five senders are in send_paths.hpp.
//
// Run:    ./zerocopy_compare [MiB]        (default 64; the file is made and removed)
// Prints: one row per path: MiB moved, wall ms, the sender's user/sys CPU ms
//         (getrusage), system calls the sender made, its minor page faults,
//         CPU copies (sender+receiver), MiB/s, and "ok" when the checksums match.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "kit/names.hpp"
#include "send_paths.hpp"

using zc::kChunk;

double ms(const timeval& tv) {
    return double(tv.tv_sec) * 1e3 + double(tv.tv_usec) / 1e3;
}

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[MiB]", [](auto args) {
        if (args.size() > 1) throw kit::UsageError{};
        const auto size = std::size_t(args.empty() ? 64 : kit::parse_long(args[0], 1, 1024)) << 20;
        // A receiver that dies must become an EPIPE error, not a death by SIGPIPE.
        ::signal(SIGPIPE, SIG_IGN);
        // The names go at once: the data lives as long as the descriptors, so not
        // even a Ctrl-C or a kill can leave a big file behind.
        auto src_name = kit::unique_temp_path("zerocopy-src");
        kit::Fd src(kit::check(::open(src_name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(src_name.c_str()), "unlink");
        const std::uint64_t want = zc::fill(src.get(), size);
        std::printf("%zu MiB file in the page cache, at most %zu KiB per call\n", size >> 20,
                    kChunk >> 10);
        std::printf("%-15s %-6s %4s %8s %7s %7s %8s %6s %6s %6s %s\n", "path", "to", "MiB",
                    "wall ms", "user ms", "sys ms", "syscalls", "faults", "copies", "MiB/s",
                    "checksum");

        // Times one sender; a forked receiver drains rx.
        auto run = [&](const char* name, const char* to, const char* copies, int rx, int tx,
                       auto send) {
            int rep[2];  // the receiver's report: bytes and checksum
            kit::check(::pipe(rep), "pipe");
            kit::Fd report(rep[0]);
            auto fork_receiver = [&] {
                std::fflush(stdout);
                pid_t pid = kit::check(::fork(), "fork");
                if (pid == 0) {
                    ::close(rep[0]);
                    if (tx >= 0) ::close(tx);  // else the receiver never sees EOF
                    try {  // read() until EOF, checksum, report; never return into main
                        zc::Received r = zc::drain(rx);
                        kit::write_all(rep[1], std::as_bytes(std::span(&r, 1)));
                    } catch (const kit::SysError&) {
                        ::_exit(1);
                    }
                    ::_exit(0);
                }
                ::close(rep[1]);
                ::close(rx);
                return pid;
            };
            const bool to_file = tx < 0;  // a file copy is checked once it is complete
            pid_t pid = to_file ? -1 : fork_receiver();
            rusage r0{}, r1{};
            kit::check(::getrusage(RUSAGE_SELF, &r0), "getrusage");
            auto t0 = std::chrono::steady_clock::now();
            long calls = send();  // returns once the last byte is handed to the kernel
            auto t1 = std::chrono::steady_clock::now();
            kit::check(::getrusage(RUSAGE_SELF, &r1), "getrusage");
            if (to_file) pid = fork_receiver();
            zc::Received got;
            auto n = kit::read_full(report.get(), std::as_writable_bytes(std::span(&got, 1)));
            int status = 0;
            kit::check(::waitpid(pid, &status, 0), "waitpid");
            double wall = std::chrono::duration<double, std::milli>(t1 - t0).count();
            bool ok = n == sizeof got && got.bytes == size && got.sum == want && status == 0;
            std::printf("%-15s %-6s %4.0f %8.1f %7.1f %7.1f %8ld %6ld %6s %6.0f %s\n", name, to,
                        double(got.bytes) / (1 << 20), wall, ms(r1.ru_utime) - ms(r0.ru_utime),
                        ms(r1.ru_stime) - ms(r0.ru_stime), calls, r1.ru_minflt - r0.ru_minflt,
                        copies, double(size >> 20) / (wall / 1e3), ok ? "ok" : "MISMATCH");
            return ok;
        };
        bool all_ok = true;
        for (bool to_pipe : {false, true}) {
            for (const zc::Path& p : zc::kPaths) {
                int fds[2];  // fds[0]: the receiver's end, fds[1]: the sender's
                if (to_pipe)
                    kit::check(::pipe(fds), "pipe");
                else
                    kit::check(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), "socketpair");
                all_ok &= run(p.name, to_pipe ? "pipe" : "socket", p.copies, fds[0], fds[1], [&] {
                    long calls = 1;  // the close() that gives the receiver EOF
                    p.send(src.get(), fds[1], to_pipe, size, calls);
                    kit::check(::close(fds[1]), "close");
                    return calls;
                });
            }
        }
        auto dst_name = kit::unique_temp_path("zerocopy-dst");
        kit::Fd dst(kit::check(::open(dst_name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        int rx = kit::check(::open(dst_name.c_str(), O_RDONLY), "open");  // the receiver's
        kit::check(::unlink(dst_name.c_str()), "unlink");
        all_ok &= run("copy_file_range", "file", "1+1", rx, -1, [&] {
            long calls = 0;
            for (loff_t in = 0, out = 0; in < loff_t(size); ++calls)
                kit::check(::copy_file_range(src.get(), &in, dst.get(), &out, kChunk, 0),
                           "copy_file_range");
            return calls;
        });
        return all_ok ? 0 : 1;
    });
}
