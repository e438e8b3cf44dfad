// shm_no_syscalls.cpp — a transfer through shared memory makes no system
// call, so the kernel copies nothing. Proof by seccomp: a child installs a
// filter that kills it on ANY system call except exit_group, then
//   (a) takes an uncontended sem_t in the mapping (sem_wait), copies 1 MiB
//       into the mapping, posts (sem_post) and exits: it survives, and the
//       parent finds every byte;
//   (b) the same filter, then one write() to a pipe: killed by SIGSYS.
// The setup calls (mmap here; shm_open/ftruncate/mmap for a named object) all
// happen before the filter. The kernel still works during the transfer: each
// first touch of a page is a page fault (ru_minflt), not a system call.
//
// Run:    ./shm_no_syscalls
// Prints: setup before the filter: mmap (1 MiB + a sem_t), sem_init, pipe, fork
//         child under the filter: sem_wait, 1048576 bytes copied, sem_post, exit 0
//         parent: all 1048576 bytes arrived; child's minor page faults: <n> (>= 256 pages
//                 touched)
//         child that called write() on a pipe: killed by signal 31 (SYS)
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/sanitizer.hpp"
#include "kit/seccomp.hpp"

namespace {
constexpr std::size_t kBytes = 1 << 20;

// ThreadSanitizer's runtime makes system calls of its own (it maps memory
// for a process's first events), so under it no filter can prove anything.

struct Shared {
    sem_t lock;
    alignas(4096) std::array<unsigned char, kBytes> data;
};

// Runs in a forked child; ends it with exit_group or by the filter, which
// allows exit_group only. Nothing after the filter is error-checked:
// reporting would itself be a system call.
[[noreturn]] void child(Shared& s, int pipe_fd) {
    if (int err = kit::forbid_system_calls(kit::OnSyscall::kill); err != 0)
        throw kit::SysError(err, "prctl(PR_SET_SECCOMP)");
    if (pipe_fd >= 0) (void)::write(pipe_fd, "x", 1);  // the filter kills us here
    ::sem_wait(&s.lock);  // uncontended: an atomic decrement in user space
    std::memset(s.data.data(), 0xAB, s.data.size());
    ::sem_post(&s.lock);  // no waiter: no futex wake
    // exit_group is the one call allowed. (Not _exit(): under AddressSanitizer
    // every call to a noreturn function first calls sigaltstack.)
    for (;;) ::syscall(SYS_exit_group, 0);
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        if (kit::kThreadSanitizer) {
            std::printf("not run: built with ThreadSanitizer, whose runtime makes system calls\n");
            return 0;
        }

        void* p = kit::check(::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                             MAP_FAILED, "mmap");
        auto& s = *static_cast<Shared*>(p);
        kit::check(::sem_init(&s.lock, 1, 1), "sem_init");
        int fds[2];
        kit::check(::pipe(fds), "pipe");
        std::printf("setup before the filter: mmap (1 MiB + a sem_t), sem_init, pipe, fork\n");

        kit::ExitStatus st = kit::spawn([&] { child(s, -1); }).wait();
        rusage ru{};  // of the children waited for: this one
        kit::check(::getrusage(RUSAGE_CHILDREN, &ru), "getrusage");
        const bool all =
            std::all_of(s.data.begin(), s.data.end(), [](unsigned char c) { return c == 0xAB; });
        if (!st.ok() || !all) {
            std::printf("the shared-memory child failed: %s\n", st.describe().c_str());
            return 1;
        }
        std::printf("child under the filter: sem_wait, %zu bytes copied, sem_post, exit 0\n",
                    kBytes);
        std::printf(
            "parent: all %zu bytes arrived; child's minor page faults: %ld (>= %zu pages "
            "touched)\n",
            kBytes, ru.ru_minflt, kBytes / 4096);

        st = kit::spawn([&] { child(s, fds[1]); }).wait();
        if (st.how == kit::ExitStatus::How::signaled)
            std::printf("child that called write() on a pipe: killed by signal %d (%s)\n",
                        st.signal, sigabbrev_np(st.signal));
        kit::check(::sem_destroy(&s.lock), "sem_destroy");
        kit::check(::munmap(p, sizeof(Shared)), "munmap");
        return st.killed_by(SIGSYS) ? 0 : 1;
    });
}
