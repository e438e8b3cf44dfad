// kit_test/program.hpp — running one of the kit's programs from a test.
//
//   auto r = kit::test::run_program({kit::test::program_path("pipe_capacity"), "5000"});
//   EXPECT_TRUE(r.status.ok()) << r.err;
//
// Only tests include this (testing/ is on the tests' include path alone).
#pragma once

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

namespace kit::test {

#ifdef KIT_BIN_DIR
// The path of a program built in the test's own chapter folder.
[[nodiscard]] inline std::string program_path(std::string_view name) {
    std::string path = KIT_BIN_DIR "/";
    path += name;
    return path;
}
#endif

// In a child: replaces it with argv[0] (a path); returns only when execv
// failed, with the shell's status for "cannot run" after saying why.
inline int exec_program(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "execv %s: %s\n", args[0], std::strerror(errno));
    return 127;
}

// What a program printed and how it ended.
struct Captured {
    ExitStatus status;
    std::string out;
    std::string err;
};

// Runs argv[0] (a path) with arguments argv[1..], feeding `input` on stdin,
// and captures stdout and stderr. The whole run is bounded by `deadline`.
[[nodiscard]] inline Captured run_program(const std::vector<std::string>& argv,
                                          std::string_view input = {},
                                          std::chrono::milliseconds deadline = kDeadline) {
    Pipe in = make_pipe(), out = make_pipe(), err = make_pipe();
    Child child = spawn([&] {
        check(::dup2(in.read.get(), STDIN_FILENO), "dup2");
        check(::dup2(out.write.get(), STDOUT_FILENO), "dup2");
        check(::dup2(err.write.get(), STDERR_FILENO), "dup2");
        return exec_program(argv);
    });
    in.read.reset();
    out.write.reset();
    err.write.reset();
    // The input is small (a test's stdin); it fits the pipe, so no deadlock.
    if (!input.empty()) write_all(in.write.get(), std::as_bytes(std::span(input)));
    in.write.reset();

    using clock = std::chrono::steady_clock;
    const auto end = clock::now() + deadline;
    Captured result;
    pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
        if (left.count() <= 0) break;
        int n = ::poll(fds, 2, static_cast<int>(left.count()));
        if (n == -1 && errno == EINTR) continue;
        check(n, "poll");
        if (n == 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
            if (r == -1 && errno == EINTR) continue;
            check(r, "read");
            if (r == 0) {
                fds[i].fd = -1;
                --open_fds;
            } else {
                sinks[i]->append(buf, static_cast<std::size_t>(r));
            }
        }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
    result.status = child.wait(std::max(left, std::chrono::milliseconds(0)));
    return result;
}

// A program running beside the test, its stdout and stderr going into one
// pipe. The program is the child itself, so a failing test's kit::Child kills
// it: nothing is left blocked. Every read is bounded by kit::kDeadline.
struct Running {
    Child child;
    Fd output;
    std::string seen;  // what it has printed so far

    // Reads until the output holds `text`; false at EOF or the deadline.
    bool wait_for(std::string_view text) {
        char buf[512];
        while (seen.find(text) == std::string::npos) {
            if (!wait_readable(output.get())) return false;
            ssize_t n = ::read(output.get(), buf, sizeof buf);
            if (n == -1 && errno == EINTR) continue;
            if (n <= 0) return false;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }
    // Waits for the program's end; returns all it printed, prefixed with how it
    // ended when that was not exit status 0.
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

// Starts argv[0] (a path) with arguments argv[1..], stdin inherited.
[[nodiscard]] inline Running start_program(const std::vector<std::string>& argv) {
    Pipe p = make_pipe();
    Child c = spawn([&] {
        check(::dup2(p.write.get(), STDOUT_FILENO), "dup2");
        check(::dup2(p.write.get(), STDERR_FILENO), "dup2");
        return exec_program(argv);
    });
    p.write.reset();
    return {std::move(c), std::move(p.read), {}};
}

}  // namespace kit::test
