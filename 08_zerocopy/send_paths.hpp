// send_paths.hpp — five ways to move a file's first `size` bytes to a socket
// or a pipe, as zerocopy_compare.cpp measures them and zerocopy_test.cpp
// checks them. Each asks for at most kChunk bytes per call and adds the number
// of system calls it made to `calls`.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "stream_sum.hpp"

namespace zc {

// Empties the in-between pipe into the destination socket.
inline void pipe_to(int pipe_r, int dst, std::size_t n, long& calls) {
    for (; n > 0; ++calls)
        n -= std::size_t(kit::check(::splice(pipe_r, nullptr, dst, nullptr, n, 0), "splice"));
}

struct Path {
    const char* name;
    const char* copies;  // CPU copies: sender + receiver
    void (*send)(int src, int dst, bool to_pipe, std::size_t size, long& calls);
};

inline const Path kPaths[] = {
    {"read+write", "2+1",
     [](int src, int dst, bool, std::size_t size, long& calls) {
         std::vector<char> buf(kChunk);
         for (off_t off = 0; off < off_t(size); calls += 2) {  // a blocking write takes it all
             auto n = kit::check(::pread(src, buf.data(), kChunk, off), "pread");
             kit::check(::write(dst, buf.data(), std::size_t(n)), "write");
             off += n;
         }
     }},
    {"mmap+write", "1+1",
     [](int src, int dst, bool, std::size_t size, long& calls) {
         auto* map = static_cast<char*>(
             kit::check(::mmap(nullptr, size, PROT_READ, MAP_SHARED, src, 0), MAP_FAILED, "mmap"));
         for (std::size_t off = 0; off < size; off += kChunk, ++calls)
             kit::check(::write(dst, map + off, std::min(kChunk, size - off)), "write");
         kit::check(::munmap(map, size), "munmap");
         calls += 2;
     }},
    {"sendfile", "0+1",
     [](int src, int dst, bool, std::size_t size, long& calls) {
         for (off_t off = 0; off < off_t(size); ++calls)  // sendfile advances off
             kit::check(::sendfile(dst, src, &off, kChunk), "sendfile");
     }},
    {"splice", "0+1",
     [](int src, int dst, bool to_pipe, std::size_t size, long& calls) {
         int p[2] = {-1, dst};  // a pipe destination needs no pipe in between
         if (!to_pipe) {
             kit::check(::pipe(p), "pipe");
             ++calls;
         }
         for (loff_t off = 0; off < loff_t(size); ++calls) {
             auto n = kit::check(::splice(src, &off, p[1], nullptr, kChunk, 0), "splice");
             if (!to_pipe) pipe_to(p[0], dst, std::size_t(n), calls);
         }
         if (!to_pipe) {
             ::close(p[0]);
             ::close(p[1]);
             calls += 2;
         }
     }},
    {"vmsplice+splice", "0+1",
     [](int src, int dst, bool to_pipe, std::size_t size, long& calls) {
         int p[2] = {-1, dst};
         if (!to_pipe) {
             kit::check(::pipe(p), "pipe");
             ++calls;
         }
         auto* map = static_cast<char*>(
             kit::check(::mmap(nullptr, size, PROT_READ, MAP_SHARED, src, 0), MAP_FAILED, "mmap"));
         for (std::size_t off = 0; off < size; ++calls) {
             iovec iov{map + off, std::min(kChunk, size - off)};
             // The pipe now holds references to the mapped pages: nothing copied.
             auto n = std::size_t(kit::check(::vmsplice(p[1], &iov, 1, 0), "vmsplice"));
             if (!to_pipe) pipe_to(p[0], dst, n, calls);
             off += n;
         }
         kit::check(::munmap(map, size), "munmap");
         if (!to_pipe) {
             ::close(p[0]);
             ::close(p[1]);
             calls += 2;
         }
         calls += 2;
     }},
};

}  // namespace zc
