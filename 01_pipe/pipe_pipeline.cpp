// pipe_pipeline.cpp — what the shell does for `A | B`: one pipe(), two fork()s,
// dup2() to put the pipe on stdout of A and stdin of B, exec() of each command,
// then the parent closes both ends and waits for both children. The two
// commands are siblings: both are children of this process.
//
// Run:    ./pipe_pipeline                     (runs: ls -l / | wc -l)
//         ./pipe_pipeline seq 1 1000 -- wc -l
// Prints: the pipeline's output on stdout (here: 1000), and on stderr
//         pipeline: parent 1234 forked 1235 (seq) and 1236 (wc), exited 0 and 0
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kit/check.hpp"

namespace {

using Argv = std::vector<std::string>;

// In a new child: make `fd` the child's `target` (0 or 1), close both pipe
// ends, exec the command. Returns the child's pid in the parent.
pid_t spawn_with(const Argv& cmd, int fd, int target, const int (&fds)[2]) {
    pid_t pid = kit::check(::fork(), "fork");
    if (pid != 0) return pid;
    if (::dup2(fd, target) == -1) ::_exit(126);
    // The pipe ends are now reachable as 0 or 1; the originals must go, or
    // `wc` would hold a write end and never see EOF.
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : cmd) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "pipe_pipeline: exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
}

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) throw kit::SysError(errno, "waitpid");
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[CMD1 ARGS... -- CMD2 ARGS...]", [](auto args) {
        Argv left = {"ls", "-l", "/"}, right = {"wc", "-l"};
        if (!args.empty()) {
            left.clear();
            right.clear();
            bool second = false;
            for (auto a : args) {
                if (a == "--" && !second)
                    second = true;
                else
                    (second ? right : left).emplace_back(a);
            }
            if (left.empty() || right.empty()) throw kit::UsageError{"need two commands"};
        }

        int fds[2];
        kit::check(::pipe(fds), "pipe");
        std::fflush(nullptr);
        pid_t writer = spawn_with(left, fds[1], STDOUT_FILENO, fds);
        pid_t reader = spawn_with(right, fds[0], STDIN_FILENO, fds);
        // The parent keeps no end: otherwise the reader never sees EOF.
        kit::check(::close(fds[0]), "close");
        kit::check(::close(fds[1]), "close");
        int s1 = wait_for(writer), s2 = wait_for(reader);
        std::fprintf(stderr, "pipeline: parent %d forked %d (%s) and %d (%s), exited %d and %d\n",
                     int(::getpid()), int(writer), left[0].c_str(), int(reader), right[0].c_str(),
                     s1, s2);
        return s2;  // like the shell: the status of the last command
    });
}
