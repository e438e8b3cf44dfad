// eventfd_semaphore.cpp — an eventfd is a 64-bit counter in the kernel behind
// a file descriptor: write(8 bytes) adds, read(8 bytes) takes. In counter mode
// a read returns the whole sum and resets it to 0; with EFD_SEMAPHORE a read
// takes 1, like sem_wait. A read of 0 sleeps (or EAGAIN with EFD_NONBLOCK), so
// a descriptor inherited across fork is a doorbell between processes. The
// counter stops at 0xfffffffffffffffe: a write that would pass it waits (or
// EAGAIN), and the value 0xffffffffffffffff itself is refused with EINVAL.
//
// Run:    ./eventfd_semaphore
// Prints: "counter mode:  write 3, write 4, read -> 7, next read -> EAGAIN"
//         "EFD_SEMAPHORE: write 3, reads -> 1 1 1, next read -> EAGAIN"
//         "limits: write 0xffffffffffffffff -> EINVAL, write past the maximum -> EAGAIN"
//         "doorbell: the child slept in read() until the parent wrote; it read 1"
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/wait.hpp"
#include "sem_shared.hpp"

namespace {

void add(int fd, std::uint64_t n) {
    if (kit::check(::write(fd, &n, sizeof n), "write") != sizeof n)
        throw kit::SysError(EIO, "write");
}

// One 8-byte read: the value, or -errno when it fails (EAGAIN: nothing there).
long long take(int fd) {
    std::uint64_t n = 0;
    if (::read(fd, &n, sizeof n) == -1) return -errno;
    return static_cast<long long>(n);
}

const char* name(long long r) { return r < 0 ? strerrorname_np(int(-r)) : "a value"; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const int counter = kit::check(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
        add(counter, 3);
        add(counter, 4);
        const long long sum = take(counter);
        std::printf("counter mode:  write 3, write 4, read -> %lld, next read -> %s\n", sum,
                    name(take(counter)));

        const int sem =
            kit::check(::eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
        add(sem, 3);
        const long long a = take(sem), b = take(sem), c = take(sem);
        std::printf("EFD_SEMAPHORE: write 3, reads -> %lld %lld %lld, next read -> %s\n", a, b, c,
                    name(take(sem)));

        const std::uint64_t all_ones = UINT64_MAX;
        const bool einval = ::write(counter, &all_ones, sizeof all_ones) == -1 && errno == EINVAL;
        add(counter, UINT64_MAX - 1);  // the largest value the counter holds
        const std::uint64_t one = 1;
        const bool eagain = ::write(counter, &one, sizeof one) == -1 && errno == EAGAIN;
        std::printf("limits: write 0xffffffffffffffff -> %s, write past the maximum -> %s\n",
                    einval ? "EINVAL" : "accepted", eagain ? "EAGAIN" : "accepted");

        const int bell = kit::check(::eventfd(0, 0), "eventfd");  // blocking, inherited
        std::fflush(stdout);
        pid_t child = kit::check(::fork(), "fork");
        if (child == 0) {
            ::alarm(10);
            std::uint64_t got = 0;
            while (::read(bell, &got, sizeof got) == -1)
                if (errno != EINTR) ::_exit(100);
            ::_exit(static_cast<int>(got));
        }
        if (!kit::wait_in_syscall(child, SYS_read))
            throw kit::SysError(ETIMEDOUT, "waiting for the child to sleep in read");
        add(bell, 1);
        const int got = ch04::reap(child);
        std::printf("doorbell: the child slept in read() until the parent wrote; it read %d\n",
                    got);

        for (int fd : {counter, sem, bell}) kit::check(::close(fd), "close");
        return sum == 7 && a + b + c == 3 && einval && eagain && got == 1 ? 0 : 1;
    });
}
