// transfer_cost.cpp — what moving BYTES from a child to its parent costs, by
// pipe or by shared memory. Run it under `strace -f -c` to count the calls.
//   pipe: the child write()s 64 KiB chunks, the parent read()s them: every
//         byte is copied twice by the kernel (into the pipe buffer, out of it),
//         and every chunk costs at least one write() and one read().
//   shm:  after the setup (mmap, sem_init, fork) the child memcpy()s the bytes
//         into the MAP_SHARED mapping and posts a semaphore; the parent reads
//         them in place. No kernel copy; the only system calls left are the
//         futex calls of a semaphore someone has to wait on, plus the kernel's
//         page faults on each first touch of a page.
//
// Run:    ./transfer_cost pipe|shm [BYTES]        (default 16777216)
// Prints: pipe: 16777216 bytes, child made 256 write() calls, parent made <n> read() calls,
//               all bytes ok
//         shm: 16777216 bytes, 1 memcpy into the mapping, child's minor page faults: <n>,
//              all bytes ok
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"

namespace {
constexpr std::size_t kChunk = 64 * 1024;
constexpr unsigned char kByte = 0xC5;

int by_pipe(std::size_t bytes) {
    int fds[2];
    kit::check(::pipe(fds), "pipe");
    kit::Child child = kit::spawn([&] {
        kit::check(::close(fds[0]), "close");
        std::vector<unsigned char> src(bytes, kByte);
        long calls = 0;
        for (std::size_t off = 0; off < bytes;) {
            ssize_t n = ::write(fds[1], src.data() + off, std::min(kChunk, bytes - off));
            if (n == -1 && errno == EINTR) continue;
            off += static_cast<std::size_t>(kit::check(n, "write"));
            ++calls;
        }
        std::printf("pipe: %zu bytes, child made %ld write() calls, ", bytes, calls);
        return 0;
    });
    kit::check(::close(fds[1]), "close");
    std::vector<unsigned char> dst(kChunk);
    std::size_t got = 0, good = 0;
    long calls = 0;
    for (;;) {
        ssize_t n = ::read(fds[0], dst.data(), dst.size());
        if (n == -1 && errno == EINTR) continue;
        if (kit::check(n, "read") == 0) break;  // EOF: the child is done
        ++calls;
        got += static_cast<std::size_t>(n);
        good += static_cast<std::size_t>(std::count(dst.begin(), dst.begin() + n, kByte));
    }
    if (!child.wait().ok()) return 1;
    std::printf("parent made %ld read() calls, %s\n", calls,
                got == bytes && good == bytes ? "all bytes ok" : "BYTES MISSING");
    return got == bytes && good == bytes ? 0 : 1;
}

struct Header {
    sem_t done;  // 0 until the child has written everything
};

int by_shm(std::size_t bytes) {
    const std::size_t size = sizeof(Header) + bytes;
    void* p =
        kit::check(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                   MAP_FAILED, "mmap");
    auto& h = *static_cast<Header*>(p);
    std::span<unsigned char> data(static_cast<unsigned char*>(p) + sizeof(Header), bytes);
    kit::check(::sem_init(&h.done, 1, 0), "sem_init");
    kit::Child child = kit::spawn([&] {
        std::vector<unsigned char> src(bytes, kByte);
        rusage before{}, after{};
        kit::check(::getrusage(RUSAGE_SELF, &before), "getrusage");
        std::memcpy(data.data(), src.data(), bytes);  // the transfer: CPU stores, no kernel
        kit::check(::getrusage(RUSAGE_SELF, &after), "getrusage");
        kit::check(::sem_post(&h.done), "sem_post");
        std::printf("shm: %zu bytes, 1 memcpy into the mapping, child's minor page faults: %ld, ",
                    bytes, after.ru_minflt - before.ru_minflt);
        return 0;
    });
    while (::sem_wait(&h.done) == -1) {  // blocks in futex() only if the child is not done yet
        if (errno != EINTR) throw kit::SysError(errno, "sem_wait");
    }
    const bool ok =
        std::all_of(data.begin(), data.end(), [](unsigned char c) { return c == kByte; });
    if (!child.wait().ok()) return 1;
    std::printf("%s\n", ok ? "all bytes ok" : "BYTES MISSING");
    kit::check(::sem_destroy(&h.done), "sem_destroy");
    kit::check(::munmap(p, size), "munmap");
    return ok ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "pipe|shm [BYTES]", [](auto args) {
        if (args.empty() || args.size() > 2) throw kit::UsageError{"expected pipe or shm"};
        const auto bytes = static_cast<std::size_t>(
            args.size() == 2 ? kit::parse_long(args[1], 1, 1L << 30) : 16L << 20);
        if (args[0] == "pipe") return by_pipe(bytes);
        if (args[0] == "shm") return by_shm(bytes);
        throw kit::UsageError{"expected pipe or shm, not '" + std::string(args[0]) + "'"};
    });
}
