// kit/wait.hpp — bounded waits: every blocking step in a test has a deadline.
#pragma once

#include <poll.h>

#include <cerrno>
#include <chrono>

#include "kit/check.hpp"

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

}  // namespace kit
