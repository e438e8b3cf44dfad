// fifo_test_util.hpp — what the chapter's test files share: a unique FIFO
// removed by a guard, a program of the chapter running in the background with
// its output captured, and "is this process blocked in a FIFO open()".
#pragma once

#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

namespace ch02::test {

// A FIFO with a unique name, unlinked when the test ends (also on failure).
inline kit::NameGuard make_fifo(std::string_view what) {
    auto g = kit::unlink_guard(kit::unique_temp_path(what));
    kit::check(::mkfifo(g.c_str(), 0600), "mkfifo");
    return g;
}

// True once `pid` is asleep in open() of a FIFO, waiting for the other side:
// inside openat (/proc/<pid>/syscall) and asleep in the FIFO's wait
// (/proc/<pid>/wchan: wait_for_partner, or fifo_open/pipe_wait on older
// kernels) — not, say, the loader opening a library. False at the deadline.
inline bool blocked_in_fifo_open(pid_t pid) {
    const auto end = std::chrono::steady_clock::now() + kit::kDeadline;
    const std::string wchan_path = "/proc/" + std::to_string(pid) + "/wchan";
    while (std::chrono::steady_clock::now() < end) {
        if (!kit::wait_in_syscall(pid, SYS_openat)) return false;
        const auto w = kit::read_text_file(wchan_path).value_or("0");
        if (w == "0") return true;  // wchan hidden: inside openat must do
        for (std::string_view hint : {"wait_for_partner", "fifo_open", "pipe_wait"})
            if (w.find(hint) != std::string::npos) return true;
        ::sched_yield();
    }
    return false;
}

}  // namespace ch02::test
