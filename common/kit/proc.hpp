// kit/proc.hpp — reading the kernel's limits from /proc and /sys.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace kit {

// The whole text of a (small) file, or nothing if it cannot be read.
[[nodiscard]] inline std::optional<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The first integer in a file such as /proc/sys/fs/pipe-max-size, or nothing.
[[nodiscard]] inline std::optional<long> read_long_file(const std::string& path) {
    auto text = read_text_file(path);
    if (!text) return std::nullopt;
    const char* p = text->data();
    const char* end = p + text->size();
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    long v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc{} || q == p) return std::nullopt;
    return v;
}

// Whether this process holds a capability (linux/capability.h numbers, e.g.
// 24 = CAP_SYS_RESOURCE) in its effective set, from /proc/self/status. Being
// root is not enough: containers often run root without some capabilities.
[[nodiscard]] inline bool has_capability(int cap) {
    auto status = read_text_file("/proc/self/status").value_or("");
    auto pos = status.find("CapEff:");
    if (pos == std::string::npos) return false;
    unsigned long long mask = std::stoull(status.substr(pos + 7), nullptr, 16);
    return ((mask >> cap) & 1ULL) != 0;
}
inline constexpr int kCapSysResource = 24;

// A process's state letter from /proc/<pid>/stat: 'R' running, 'S' sleeping,
// 'D' uninterruptible, 'T' stopped, 'Z' zombie; '?' when it is gone.
[[nodiscard]] inline char process_state(pid_t pid) {
    auto stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return '?';
    auto close = stat->rfind(')');  // the command name may contain spaces and ')'
    if (close == std::string::npos || close + 2 >= stat->size()) return '?';
    return (*stat)[close + 2];
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
