// uring_splice.cpp — the splice of this chapter submitted through io_uring,
// with the raw system calls (no liburing): io_uring_setup() creates the rings,
// mmap() maps them, one IORING_OP_SPLICE entry asks for file → pipe, and one
// io_uring_enter() both submits it and waits for its completion. A forked
// child reads the pipe. IORING_OP_SPLICE needs Linux 5.7; on an older kernel, or
// one that refuses io_uring (ENOSYS, EPERM, kernel.io_uring_disabled), it prints
// "cannot show it here: <reason>" and exits 0.
//
// Run:    ./uring_splice
// Prints: "completion: res=47 bytes" and what the child read.
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

// A field of a ring, found at an offset the kernel reported in io_uring_params.
template <class T>
T* at(void* base, unsigned offset) {
    return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        constexpr std::string_view msg = "spliced by the kernel, submitted through a ring";
        auto name = kit::unique_temp_path("uring");
        kit::Fd file(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(name.c_str()), "unlink");  // at once: even SIGKILL leaves no name
        kit::write_all(file.get(), std::as_bytes(std::span(msg)));
        int p[2];
        kit::check(::pipe(p), "pipe");

        utsname u{};
        kit::check(::uname(&u), "uname");
        int major = 0, minor = 0;
        if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2 || major * 100 + minor < 507) {
            std::printf("cannot show it here: Linux %s lacks IORING_OP_SPLICE (5.7)\n", u.release);
            return 0;
        }
        io_uring_params params{};
        int ring = static_cast<int>(::syscall(__NR_io_uring_setup, 4, &params));
        if (ring == -1 && (errno == ENOSYS || errno == EPERM || errno == EACCES)) {
            std::printf("cannot show it here: io_uring_setup: %s\n", std::strerror(errno));
            return 0;
        }
        kit::Fd ring_fd(kit::check(ring, "io_uring_setup"));
        if (!(params.features & IORING_FEAT_SINGLE_MMAP)) throw kit::SysError(ENOTSUP, "rings");
        // Since 5.4 the submission and completion rings share one mapping.
        const std::size_t ring_len =
            std::max(params.sq_off.array + params.sq_entries * sizeof(unsigned),
                     params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe));
        void* rings = kit::check(::mmap(nullptr, ring_len, PROT_READ | PROT_WRITE,
                                        MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING),
                                 MAP_FAILED, "mmap");
        const std::size_t sqes_len = params.sq_entries * sizeof(io_uring_sqe);
        auto* sqes = static_cast<io_uring_sqe*>(
            kit::check(::mmap(nullptr, sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                              ring, IORING_OFF_SQES),
                       MAP_FAILED, "mmap"));

        // One submission: splice(file at offset 0 → pipe, msg.size() bytes).
        unsigned* sq_tail = at<unsigned>(rings, params.sq_off.tail);
        const unsigned tail = *sq_tail, idx = tail & *at<unsigned>(rings, params.sq_off.ring_mask);
        io_uring_sqe& sqe = sqes[idx];
        std::memset(&sqe, 0, sizeof sqe);
        sqe.opcode = IORING_OP_SPLICE;
        sqe.splice_fd_in = file.get();
        sqe.splice_off_in = 0;
        sqe.fd = p[1];
        sqe.off = ~0ULL;  // -1: no offset, the pipe side (splice's NULL)
        sqe.len = unsigned(msg.size());
        at<unsigned>(rings, params.sq_off.array)[idx] = idx;
        std::atomic_ref<unsigned>(*sq_tail).store(tail + 1, std::memory_order_release);

        // One system call: submit 1, wait for 1 completion.
        kit::check(::syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, nullptr, 0),
                   "io_uring_enter");
        unsigned* cq_head = at<unsigned>(rings, params.cq_off.head);
        const unsigned head = *cq_head;
        if (std::atomic_ref<unsigned>(*at<unsigned>(rings, params.cq_off.tail))
                .load(std::memory_order_acquire) == head)
            throw kit::SysError(EIO, "io_uring: no completion");
        const io_uring_cqe cqe = at<io_uring_cqe>(
            rings, params.cq_off.cqes)[head & *at<unsigned>(rings, params.cq_off.ring_mask)];
        std::atomic_ref<unsigned>(*cq_head).store(head + 1, std::memory_order_release);
        if (cqe.res < 0) throw kit::SysError(-cqe.res, "IORING_OP_SPLICE");
        std::printf("completion: res=%d bytes\n", cqe.res);
        std::fflush(stdout);

        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            char buf[128];
            ::close(p[1]);
            ssize_t n = ::read(p[0], buf, sizeof buf);
            std::printf("child read %zd bytes: \"%.*s\"\n", n, int(n > 0 ? n : 0), buf);
            std::fflush(stdout);
            ::_exit(n == cqe.res ? 0 : 1);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        kit::check(::munmap(sqes, sqes_len), "munmap");
        kit::check(::munmap(rings, ring_len), "munmap");
        return status == 0 ? 0 : 1;
    });
}
