// blocked.hpp — knowing, without sleeping, that another process is blocked
// inside a system call (so a test or a demo can act on a sleeping receiver).
//
// The kernel shows every task's state in /proc/<pid>/stat (3rd field: 'S' =
// interruptible sleep) and the kernel function it sleeps in in
// /proc/<pid>/wchan (e.g. "do_msgrcv"). We re-read both until they say
// "sleeping in <hint>", giving up at a deadline.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "kit/proc.hpp"

namespace ch03 {

// 'R', 'S', 'D', 'Z', ... or '?' when the process is gone.
[[nodiscard]] inline char process_state(pid_t pid) {
    auto stat = kit::read_text_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return '?';
    auto close = stat->rfind(')');  // the command name may contain spaces
    if (close == std::string::npos || close + 2 >= stat->size()) return '?';
    return (*stat)[close + 2];
}

// True once `pid` sleeps in a kernel function whose name contains `hint`
// (when the kernel hides wchan it shows "0": then the state alone decides).
// False if that does not happen before the deadline.
[[nodiscard]] inline bool wait_until_blocked(
    pid_t pid, std::string_view hint,
    std::chrono::milliseconds deadline = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    const std::string wchan_path = "/proc/" + std::to_string(pid) + "/wchan";
    while (std::chrono::steady_clock::now() < end) {
        if (process_state(pid) == 'S') {
            auto wchan = kit::read_text_file(wchan_path).value_or("0");
            if (wchan == "0" || wchan.find(hint) != std::string::npos) return true;
        }
        ::sched_yield();
    }
    return false;
}

}  // namespace ch03
