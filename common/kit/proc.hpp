// kit/proc.hpp — reading the kernel's limits from /proc and /sys.
#pragma once

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

}  // namespace kit
