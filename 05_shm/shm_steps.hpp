// shm_steps.hpp — the process plumbing the chapter's programs share: ending a
// forked child, reaping it, and one-byte "go" signals over a pipe that put two
// processes' steps in a fixed order (so a race is forced, never hoped for).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>

#include "kit/check.hpp"

namespace ch05 {

// Runs a forked child's body and ends the child with _exit (never returning
// into the parent's code): the status is the body's result, or 1 after
// printing "child <pid>: <call>: <strerror>" when a call failed.
template <class Fn>
[[noreturn]] void run_child(Fn&& body) noexcept {
    int status = 1;
    try {
        status = body();
    } catch (const kit::SysError& e) {
        std::fprintf(stderr, "child %d: %s\n", int(::getpid()), e.message().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", int(::getpid()), e.what());
    }
    std::fflush(nullptr);
    ::_exit(status);
}

// Waits for the child; true when it exited with status 0.
[[nodiscard]] inline bool reap_ok(pid_t pid) {
    int ws = 0;
    while (::waitpid(pid, &ws, 0) == -1) {
        if (errno != EINTR) throw kit::SysError(errno, "waitpid");
    }
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) return true;
    std::fprintf(stderr, "child %d did not exit 0 (wait status %#x)\n", int(pid), unsigned(ws));
    return false;
}

// One byte down a pipe: "your turn".
inline void send_go(int fd) {
    const char go = 'g';
    while (::write(fd, &go, 1) != 1) {
        if (errno != EINTR) throw kit::SysError(errno, "write");
    }
}

// Blocks until the other process says "your turn"; its exit (EOF) is an error.
inline void wait_go(int fd) {
    char go = 0;
    for (;;) {
        ssize_t n = ::read(fd, &go, 1);
        if (n == 1) return;
        if (n == 0) throw kit::SysError(EPIPE, "read (the other process is gone)");
        if (errno != EINTR) throw kit::SysError(errno, "read");
    }
}

}  // namespace ch05
