// send_with_copies.cpp — a file sent to another process, to a socket and to a
// pipe, by the paths whose sender copies the bytes: read+write (two copies) and
// mmap+write (one); and copied to another file with copy_file_range, which the
// receiver reads once it is complete. send_by_reference.cpp times the paths that
// pass page references instead; stream_sum.hpp is the data and the table.
//
// Run:    ./send_with_copies [MiB]   (default 64; the files' names go at once: even
//         SIGKILL leaves nothing behind)
// Prints: the same columns as send_by_reference, one row per path.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "kit/names.hpp"
#include "stream_sum.hpp"

using ch08::kChunk;

// Each sender moves the file's first `size` bytes to dst, at most kChunk per
// call; it returns how many system calls it made.
long by_read_write(int src, int dst, std::size_t size) {
    std::vector<char> buf(kChunk);
    long calls = 0;
    for (off_t off = 0; off < off_t(size); calls += 2) {  // a blocking write takes it all
        auto n = kit::check(::pread(src, buf.data(), kChunk, off), "pread");  // copy 1
        kit::check(::write(dst, buf.data(), std::size_t(n)), "write");        // copy 2
        off += n;
    }
    return calls;
}

long by_mmap_write(int src, int dst, std::size_t size) {
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, size, PROT_READ, MAP_SHARED, src, 0), MAP_FAILED, "mmap"));
    long calls = 2;                                                // mmap, munmap
    for (std::size_t off = 0; off < size; off += kChunk, ++calls)  // write() copies
        kit::check(::write(dst, map + off, std::min(kChunk, size - off)), "write");
    kit::check(::munmap(map, size), "munmap");
    return calls;
}

long by_copy_file_range(int src, int dst, std::size_t size) {
    long calls = 0;
    for (loff_t in = 0, out = 0; in < loff_t(size); ++calls)  // both offsets advance
        kit::check(::copy_file_range(src, &in, dst, &out, kChunk, 0), "copy_file_range");
    return calls;
}

using Sender = long (*)(int src, int dst, std::size_t size);

// A forked receiver: read() rx to EOF, exit 0 if every byte has the right checksum.
pid_t receiver(int rx, int tx, std::size_t size, std::uint64_t want) {
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        if (tx >= 0) ::close(tx);  // else the receiver never sees EOF
        ch08::Received r = ch08::drain(rx);
        ::_exit(r.bytes == size && r.sum == want ? 0 : 1);
    }
    kit::check(::close(rx), "close");
    return pid;
}

// One row. Toward a socket or a pipe the receiver reads while the sender sends;
// a file copy is read once it is complete.
bool row(const char* name, const char* to, const char* copies, Sender send, int src,
         std::size_t size, std::uint64_t want) {
    const std::string_view dest = to;
    int fds[2];  // fds[0]: the receiver's end, fds[1]: the sender's
    if (dest == "file") {
        auto path = kit::unique_temp_path("copy-dst");
        fds[1] = kit::check(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600), "open");
        fds[0] = kit::check(::open(path.c_str(), O_RDONLY), "open");
        kit::check(::unlink(path.c_str()), "unlink");
    } else {
        kit::check(dest == "pipe" ? ::pipe(fds) : ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds),
                   "socketpair");
    }
    pid_t pid = dest == "file" ? -1 : receiver(fds[0], fds[1], size, want);
    const ch08::Sample before = ch08::sample();
    long calls = send(src, fds[1], size) + 1;  // + the close() that ends it
    kit::check(::close(fds[1]), "close");
    const ch08::Sample after = ch08::sample();
    if (dest == "file") pid = receiver(fds[0], -1, size, want);
    int status = 0;
    kit::check(::waitpid(pid, &status, 0), "waitpid");
    ch08::print_row({name, to, copies, before, after, calls, size, status == 0});
    return status == 0;
}

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[MiB]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        ::signal(SIGPIPE, SIG_IGN);  // a receiver that dies: EPIPE, not death by SIGPIPE
        const auto size = std::size_t(args.empty() ? 64 : kit::parse_long(args[0], 1, 1024)) << 20;
        auto name = kit::unique_temp_path("with-copies");
        kit::Fd src(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(name.c_str()), "unlink");  // the data lives as long as src
        const std::uint64_t want = ch08::fill(src.get(), size);
        ch08::print_header(size);
        bool ok = true;
        for (const char* to : {"socket", "pipe"}) {  // one statement per row: the table's order
            ok &= row("read+write", to, "2+1", by_read_write, src.get(), size, want);
            ok &= row("mmap+write", to, "1+1", by_mmap_write, src.get(), size, want);
        }
        ok &= row("copy_file_range", "file", "1+1", by_copy_file_range, src.get(), size, want);
        return ok ? 0 : 1;
    });
}
