// kit/wait.hpp — bounded waits: every blocking step has a deadline; waits until
// another process is provably blocked in the kernel.
#pragma once

#include <poll.h>
#include <sched.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>

#include "kit/check.hpp"
#include "kit/proc.hpp"

namespace kit {

// The default bound for one blocking step in a test: long enough for a loaded
// CI machine, short enough that a broken mechanism fails fast.
inline constexpr std::chrono::milliseconds kDeadline{5000};

// poll() one fd for `events` until ready or the timeout passes; retries EINTR
// with the time that is left. Returns the revents (0 on timeout).
[[nodiscard]] inline short wait_for_events(int fd, short events,
                                           std::chrono::milliseconds timeout = kDeadline) {
    using clock = std::chrono::steady_clock;
    const auto end = clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
        if (left.count() < 0) left = std::chrono::milliseconds(0);
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n == -1 && errno == EINTR) continue;
        check(n, "poll");
        return n == 0 ? short(0) : p.revents;
    }
}

// True when a read on fd would not block (data, EOF or an error is ready).
[[nodiscard]] inline bool wait_readable(int fd, std::chrono::milliseconds timeout = kDeadline) {
    return wait_for_events(fd, POLLIN, timeout) != 0;
}

// True when a write on fd would not block (room, or the reader is gone).
[[nodiscard]] inline bool wait_writable(int fd, std::chrono::milliseconds timeout = kDeadline) {
    return wait_for_events(fd, POLLOUT, timeout) != 0;
}

// Waits, without sleeping, until `pid` is asleep in the kernel in a function
// whose name contains `hint` (/proc/<pid>/wchan, e.g. "pipe_read"); where the
// kernel hides wchan ("0") the 'S' state alone decides. False at the deadline.
// Lets a test act on a process that is provably blocked in a call.
[[nodiscard]] inline bool wait_until_blocked(
    pid_t pid, std::string_view hint,
    std::chrono::milliseconds deadline = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    const std::string wchan_path = "/proc/" + std::to_string(pid) + "/wchan";
    while (std::chrono::steady_clock::now() < end) {
        if (process_state(pid) == 'S') {
            auto wchan = read_text_file(wchan_path).value_or("0");
            if (wchan == "0" || wchan.find(hint) != std::string::npos) return true;
        }
        ::sched_yield();
    }
    return false;
}

// Waits, without sleeping, until `pid` is inside system call number `nr`
// (SYS_read, SYS_poll, ...): /proc/<pid>/syscall starts with that number while
// the task is blocked in it, and says "running" while it runs user code. A
// signal sent after this returns true interrupts that very call. False when
// the process is gone or the deadline passes.
[[nodiscard]] inline bool wait_in_syscall(
    pid_t pid, long nr, std::chrono::milliseconds deadline = std::chrono::milliseconds(5000)) {
    const std::string path = "/proc/" + std::to_string(pid) + "/syscall";
    const std::string want = std::to_string(nr) + " ";
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        auto text = read_text_file(path);
        if (!text) return false;
        if (text->rfind(want, 0) == 0) return true;
        ::sched_yield();
    }
    return false;
}

}  // namespace kit
