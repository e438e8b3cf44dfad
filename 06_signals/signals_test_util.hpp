// signals_test_util.hpp — what the chapter's test files share: a one-byte
// "I am here" pipe handshake, signal sets, a counting handler, and the reason
// cases skip under ThreadSanitizer.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <initializer_list>
#include <iterator>
#include <regex>
#include <span>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "kit/sanitizer.hpp"
#include "kit/wait.hpp"

namespace ch06::test {

// One byte through a pipe: "I am ready" / "go on". Bounded: false on timeout or EOF.
inline void signal_gate(int fd) { kit::write_all(fd, std::as_bytes(std::span("g", 1))); }
[[nodiscard]] inline bool pass_gate(int fd) {
    if (!kit::wait_readable(fd)) return false;
    char c;
    return ::read(fd, &c, 1) == 1;
}

inline sigset_t set_of(std::initializer_list<int> sigs) {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : sigs) sigaddset(&s, sig);
    return s;
}

inline volatile sig_atomic_t g_count = 0;
inline void count_signal(int) { g_count = g_count + 1; }

inline void install(int sig, void (*handler)(int), int flags = 0) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
}

inline int count_lines_matching(const std::string& text, const std::string& pattern) {
    const std::regex re(pattern);
    return int(
        std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

// The Restart cases see "the child is blocked in read()" in /proc/<pid>/syscall.
inline bool proc_syscall_readable() {
    auto text = kit::read_text_file("/proc/self/syscall");
    return text && !text->empty();
}

// ThreadSanitizer intercepts sigaction() and delivers signals itself: it defers
// handlers, keeps its own pending table (which merges real-time signals) and
// installs handlers without SA_RESTART. Cases about those kernel facts would
// observe the sanitizer, not Linux, so they skip under it.
constexpr bool under_tsan() { return kit::kThreadSanitizer; }
inline constexpr const char* kTsanReason = "ThreadSanitizer replaces the kernel's signal delivery";

inline rlim_t sigpending_limit() {
    rlimit r{};
    kit::check(::getrlimit(RLIMIT_SIGPENDING, &r), "getrlimit");
    return r.rlim_cur;
}

}  // namespace ch06::test
