// kit/check.hpp — one way to check a system call and one way to report it.
//
// A failed call becomes a kit::SysError carrying the call's name and errno;
// kit::run() (in a program's main) prints it as "<program>: <call>: <strerror>"
// and exits 1. Wrong arguments throw kit::UsageError: usage line, exit 2.
#pragma once

#include <cerrno>
#include <charconv>
#include <concepts>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kit {

// A failed system call: which call, and the error number it left.
class SysError : public std::system_error {
public:
    SysError(int err, std::string_view call)
        : std::system_error(err, std::generic_category(), std::string(call)), call_(call) {}
    [[nodiscard]] const std::string& call() const noexcept { return call_; }
    [[nodiscard]] int err() const noexcept { return code().value(); }
    // "<call>: <strerror>", the tail of every error line the kit prints.
    [[nodiscard]] std::string message() const { return call_ + ": " + std::strerror(err()); }

private:
    std::string call_;
};

// Wrong command-line arguments; kit::run prints the usage line and exits 2.
struct UsageError {
    std::string detail;
};

// Calls that return -1 and set errno (read, write, open, msgsnd, ...):
// returns rc unchanged, or throws SysError(errno, call).
template <std::integral T>
T check(T rc, std::string_view call) {
    if (rc == T(-1)) throw SysError(errno, call);
    return rc;
}

// Calls that return a pointer with a failure value (mmap → MAP_FAILED,
// shmat → (void*)-1, sem_open → SEM_FAILED, popen → nullptr).
template <class P>
requires std::is_pointer_v<P> P check(P p, P failed, std::string_view call) {
    if (p == failed) throw SysError(errno ? errno : EIO, call);
    return p;
}

// Calls that return the error number instead of setting errno (pthread_*,
// posix_spawn): 0 is success, anything else is thrown.
inline void check_err(int err, std::string_view call) {
    if (err != 0) throw SysError(err, call);
}

// An argument as an error message quotes it: in single quotes, cut to a
// readable length ("'aaaa…' (5000 characters)") so a huge argument does not
// flood the terminal.
[[nodiscard]] inline std::string quoted(std::string_view arg) {
    constexpr std::size_t kShown = 40;
    std::string q = "'";
    q += arg.substr(0, kShown);
    if (arg.size() > kShown) {
        q += "…' (" + std::to_string(arg.size()) + " characters)";
        return q;
    }
    q += "'";
    return q;
}

// The refusal of one argument: kit::run prints "<prog>: unexpected argument
// 'X'" and the usage line, and exits 2.
[[nodiscard]] inline UsageError unexpected(std::string_view arg) {
    return UsageError{"unexpected argument " + quoted(arg)};
}

// For a program that takes no arguments: refuses the first one given.
inline void no_arguments(std::span<const std::string_view> args) {
    if (!args.empty()) throw unexpected(args.front());
}

// Parses a decimal integer argument in [lo, hi], or throws UsageError.
[[nodiscard]] inline long parse_long(std::string_view text, long lo, long hi) {
    long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) {
        std::string why = "bad number ";  // built with += : gcc 12 -O2 warns falsely on "x" + s
        why += quoted(text);
        why += " (expected " + std::to_string(lo) + ".." + std::to_string(hi) + ")";
        throw UsageError{why};
    }
    return v;
}

// True for "-x" or "--xyz" (not "-", not "--", not a negative number).
[[nodiscard]] inline bool looks_like_option(std::string_view arg) {
    if (arg.size() < 2 || arg[0] != '-') return false;
    const char c = arg[1];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c == '-' && arg.size() > 2);
}

// True if `option` stands in the usage text as a word of its own ("[--hold]").
[[nodiscard]] inline bool usage_mentions(std::string_view usage, std::string_view option) {
    for (auto pos = usage.find(option); pos != std::string_view::npos;
         pos = usage.find(option, pos + 1)) {
        const auto end = pos + option.size();
        const bool starts =
            pos == 0 || std::string_view(" [(|").find(usage[pos - 1]) != std::string_view::npos;
        const bool ends = end == usage.size() ||
                          std::string_view(" ]),|=").find(usage[end]) != std::string_view::npos;
        if (starts && ends) return true;
    }
    return false;
}

// The program's name as the user typed it, without directories.
[[nodiscard]] inline std::string_view program_name(const char* argv0) {
    std::string_view s = argv0 ? argv0 : "?";
    if (auto slash = s.rfind('/'); slash != std::string_view::npos) s.remove_prefix(slash + 1);
    return s;
}

// Runs a program's body with the kit's error conventions:
//   --help / -h          → usage on stdout, exit 0
//   an option-like first argument the usage does not name (a FIFO path
//   "--bogus", say) → "<prog>: unexpected argument '--bogus'", usage, exit 2
//   UsageError           → "<prog>: <detail>" and usage on stderr, exit 2
//   SysError             → "<prog>: <call>: <strerror>" on stderr, exit 1
// body receives the arguments after argv[0] and returns the exit status.
template <class Body>
int run(int argc, char** argv, std::string_view usage, Body&& body) {
    const std::string_view prog = program_name(argc > 0 ? argv[0] : nullptr);
    std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::printf("usage: %.*s %.*s\n", int(prog.size()), prog.data(), int(usage.size()),
                    usage.data());
        return 0;
    }
    try {
        if (!args.empty() && looks_like_option(args[0]) && !usage_mentions(usage, args[0]))
            throw unexpected(args[0]);
        return body(std::span<const std::string_view>(args));
    } catch (const UsageError& e) {
        if (!e.detail.empty())
            std::fprintf(stderr, "%.*s: %s\n", int(prog.size()), prog.data(), e.detail.c_str());
        std::fprintf(stderr, "usage: %.*s %.*s\n", int(prog.size()), prog.data(), int(usage.size()),
                     usage.data());
        return 2;
    } catch (const SysError& e) {
        std::fprintf(stderr, "%.*s: %s\n", int(prog.size()), prog.data(), e.message().c_str());
        return 1;
    }
}

}  // namespace kit
