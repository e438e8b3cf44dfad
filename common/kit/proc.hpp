// kit/proc.hpp — reading the kernel's limits from /proc and /sys.
#pragma once

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

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

}  // namespace kit
