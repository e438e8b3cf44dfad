// kit/child.hpp — child processes for tests, with a deadline.
//
//   kit::Child c = kit::spawn([&] { ...; return 0; });   // runs in a real child process
//   EXPECT_TRUE(c.wait().ok());                          // killed if it overruns kDeadline
//
// The callable's return value is the child's exit status; an exception in the
// child prints "<call>: <strerror>" on stderr and exits 1. The child always
// ends with _exit, so it never runs the parent's atexit handlers or tests.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

namespace kit {

// How a child ended.
struct ExitStatus {
    enum class How { exited, signaled, timed_out };
    How how = How::exited;
    int code = 0;    // exit status when how == exited
    int signal = 0;  // terminating signal when how == signaled

    [[nodiscard]] bool ok() const noexcept { return how == How::exited && code == 0; }
    [[nodiscard]] bool exited_with(int c) const noexcept { return how == How::exited && code == c; }
    [[nodiscard]] bool killed_by(int sig) const noexcept {
        return how == How::signaled && signal == sig;
    }
    [[nodiscard]] static ExitStatus from_wait_status(int ws) noexcept {
        if (WIFSIGNALED(ws)) return {How::signaled, 0, WTERMSIG(ws)};
        return {How::exited, WEXITSTATUS(ws), 0};
    }
    // Readable form for test failure messages: "exited 0", "killed by signal 13 (Broken pipe)".
    [[nodiscard]] std::string describe() const {
        switch (how) {
            case How::exited:
                return "exited " + std::to_string(code);
            case How::signaled:
                return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) +
                       ")";
            case How::timed_out:
                return "overran its deadline and was killed";
        }
        return "?";
    }
};

// A child process. wait() reaps it within a deadline; a child that is never
// waited for is killed and reaped by the destructor, so no test leaves one.
class Child {
public:
    explicit Child(pid_t pid) noexcept : pid_(pid) {}
    Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    Child& operator=(Child&&) = delete;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int ws;
            while (::waitpid(pid_, &ws, 0) == -1 && errno == EINTR) {
            }
        }
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    // Waits until the child ends or `deadline` passes; an overrunning child is
    // killed with SIGKILL, reaped, and reported as How::timed_out.
    ExitStatus wait(std::chrono::milliseconds deadline = kDeadline) {
        using clock = std::chrono::steady_clock;
        const auto end = clock::now() + deadline;
        // A pidfd becomes readable when the child exits: an exact wait with
        // no polling. Older kernels lack pidfd_open; then poll waitpid.
        Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
        for (;;) {
            int ws = 0;
            pid_t r = ::waitpid(pid_, &ws, WNOHANG);
            if (r == -1 && errno == EINTR) continue;
            check(r, "waitpid");
            if (r == pid_) {
                pid_ = -1;
                return ExitStatus::from_wait_status(ws);
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
            if (left.count() <= 0) {
                ::kill(pid_, SIGKILL);
                while (::waitpid(pid_, &ws, 0) == -1 && errno == EINTR) {
                }
                pid_ = -1;
                return {ExitStatus::How::timed_out, 0, 0};
            }
            if (pidfd) {
                (void)wait_readable(pidfd.get(), left);
            } else {
                timespec ts{0, 1'000'000};  // 1 ms between checks
                ::nanosleep(&ts, nullptr);
            }
        }
    }

private:
    pid_t pid_;
};

// Runs fn() in a forked child. fn returns the exit status (int), or nothing
// (exit 0). Output buffers are flushed on both sides of the fork, so nothing
// is printed twice or lost.
template <class Fn>
[[nodiscard]] Child spawn(Fn&& fn) {
    std::fflush(nullptr);
    pid_t pid = check(::fork(), "fork");
    if (pid != 0) return Child(pid);
    int status = 1;
    try {
        if constexpr (std::same_as<std::invoke_result_t<Fn>, void>) {
            fn();
            status = 0;
        } else {
            status = static_cast<int>(fn());
        }
    } catch (const SysError& e) {
        std::fprintf(stderr, "child %d: %s\n", int(::getpid()), e.message().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", int(::getpid()), e.what());
    } catch (...) {
        std::fprintf(stderr, "child %d: unknown exception\n", int(::getpid()));
    }
    std::fflush(nullptr);
    ::_exit(status);
}

}  // namespace kit
