// send_by_reference.cpp — a file sent to another process, to a socket and to a
// pipe, by the calls that pass page references instead of bytes: sendfile,
// splice (file → pipe → socket) and vmsplice+splice. A forked receiver read()s
// to EOF and checks the checksum. send_with_copies.cpp times the copying paths.
//
// Run:    ./send_by_reference [MiB]   (default 64; the file's name goes at once: even
//         SIGKILL leaves nothing behind)
// Prints: per path: MiB, wall ms, the sender's user/sys CPU ms, system calls, minor
//         faults, CPU copies (sender+receiver: the kernel's design, shown by the
//         CopyOrReference tests), MiB/s, and "ok" when the receiver's checksum matches.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "kit/names.hpp"
#include "stream_sum.hpp"

using ch08::kChunk;

// Toward a socket, splice and vmsplice go through a pipe that Forward empties.
struct Forward {
    int pipe_r = -1, sock = -1;
    long operator()(ssize_t n) const {
        long calls = 0;
        for (; pipe_r >= 0 && n > 0; ++calls)
            n -= kit::check(::splice(pipe_r, nullptr, sock, nullptr, std::size_t(n), 0), "splice");
        return calls;
    }
};

// Each sender moves the file's first `size` bytes into `out`, at most kChunk per
// call; it returns how many system calls it made.
long by_sendfile(int src, int out, Forward, std::size_t size) {
    long calls = 0;
    for (off_t off = 0; off < off_t(size); ++calls)  // sendfile advances off
        kit::check(::sendfile(out, src, &off, kChunk), "sendfile");
    return calls;
}

long by_splice(int src, int out, Forward forward, std::size_t size) {
    long calls = 0;
    for (loff_t off = 0; off < loff_t(size); ++calls)
        calls += forward(kit::check(::splice(src, &off, out, nullptr, kChunk, 0), "splice"));
    return calls;
}

long by_vmsplice(int src, int out, Forward forward, std::size_t size) {
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, size, PROT_READ, MAP_SHARED, src, 0), MAP_FAILED, "mmap"));
    long calls = 2;  // mmap, munmap
    for (std::size_t off = 0; off < size; ++calls) {
        iovec iov{map + off, std::min(kChunk, size - off)};
        // The pipe now holds references to the mapped pages: nothing copied.
        auto n = kit::check(::vmsplice(out, &iov, 1, 0), "vmsplice");
        calls += forward(n);
        off += std::size_t(n);
    }
    kit::check(::munmap(map, size), "munmap");
    return calls;
}

using Sender = long (*)(int src, int out, Forward forward, std::size_t size);

// One row: a forked receiver read()s to EOF and exits 0 if it got every byte
// with the right checksum; meanwhile the sender is timed.
bool row(const char* name, Sender send, bool to_pipe, int src, std::size_t size,
         std::uint64_t want) {
    int dst[2];  // dst[0]: the receiver's end
    kit::check(to_pipe ? ::pipe(dst) : ::socketpair(AF_UNIX, SOCK_STREAM, 0, dst), "socketpair");
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        ::close(dst[1]);  // else the receiver never sees EOF
        ch08::Received r = ch08::drain(dst[0]);
        ::_exit(r.bytes == size && r.sum == want ? 0 : 1);
    }
    kit::check(::close(dst[0]), "close");
    const ch08::Sample before = ch08::sample();
    int hop[2] = {-1, dst[1]};  // file → pipe → socket: a pipe in between
    const bool via_pipe = !to_pipe && send != by_sendfile;
    if (via_pipe) kit::check(::pipe(hop), "pipe");
    long calls = send(src, hop[1], Forward{hop[0], dst[1]}, size) + (via_pipe ? 4 : 1);
    if (via_pipe) kit::check(::close(hop[0]) | ::close(hop[1]), "close");
    kit::check(::close(dst[1]), "close");  // the receiver's EOF
    const ch08::Sample after = ch08::sample();
    int status = 0;
    kit::check(::waitpid(pid, &status, 0), "waitpid");
    ch08::print_row(
        {name, to_pipe ? "pipe" : "socket", "0+1", before, after, calls, size, status == 0});
    return status == 0;
}

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[MiB]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        ::signal(SIGPIPE, SIG_IGN);  // a receiver that dies: EPIPE, not death by SIGPIPE
        const auto size = std::size_t(args.empty() ? 64 : kit::parse_long(args[0], 1, 1024)) << 20;
        auto name = kit::unique_temp_path("by-reference");
        kit::Fd src(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(name.c_str()), "unlink");  // the data lives as long as src
        const std::uint64_t want = ch08::fill(src.get(), size);
        ch08::print_header(size);
        bool all_ok = true;
        for (bool to_pipe : {false, true}) {  // one statement per row: the order is the table's
            all_ok &= row("sendfile", by_sendfile, to_pipe, src.get(), size, want);
            all_ok &= row("splice", by_splice, to_pipe, src.get(), size, want);
            all_ok &= row("vmsplice+splice", by_vmsplice, to_pipe, src.get(), size, want);
        }
        return all_ok ? 0 : 1;
    });
}
