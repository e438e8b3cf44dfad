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

// A program running in the background, its stdout+stderr going into a pipe.
// The program itself is the child, so a failing test's kit::Child kills it:
// nothing is left blocked on a FIFO. Its output is small (fits the pipe).
// (kit::test::run_program runs a program to its end; these tests need it to
// run beside them.)
struct Background {
    kit::Child child;
    kit::Fd output;
    std::string seen;  // what it has printed so far

    // Reads (bounded) until the output holds `text`.
    bool wait_for(std::string_view text) {
        char buf[512];
        while (seen.find(text) == std::string::npos) {
            if (!kit::wait_readable(output.get())) return false;
            ssize_t n = ::read(output.get(), buf, sizeof buf);
            if (n == -1 && errno == EINTR) continue;
            if (n <= 0) return false;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }
    // Waits for the program; returns all it printed, prefixed on failure.
    std::string finish() {
        auto st = child.wait();
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(output.get(), buf, sizeof buf);
            if (n == -1 && errno == EINTR) continue;
            if (n <= 0) break;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return st.ok() ? seen : "FAILED: " + st.describe() + "\n" + seen;
    }
};

inline Background start(const std::vector<std::string>& argv) {
    auto p = kit::make_pipe();
    auto c = kit::spawn([&] {
        kit::check(::dup2(p.write.get(), STDOUT_FILENO), "dup2");
        kit::check(::dup2(p.write.get(), STDERR_FILENO), "dup2");
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        return 127;
    });
    p.write.reset();
    return {std::move(c), std::move(p.read), {}};
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
