// fork_buffer_broken.cpp — printf before fork, the classic surprise. stdio
// keeps output in a buffer inside the process; fork() copies the process,
// buffer and all, so text not yet flushed exists twice, and each process
// flushes its own copy when it exits. How full that buffer is depends on
// where stdout goes:
//   * a terminal: line buffered — the '\n' already flushed the line: once;
//   * a pipe or a file: fully buffered — the line is still in the buffer at
//     fork(): it comes out twice, once from the child's exit() and once from
//     the parent's. fork_buffer_fixed.cpp is the same program, fixed.
//
// Run:    ./fork_buffer_broken            (a terminal: the line once)
//         ./fork_buffer_broken | cat      (a pipe: the line twice)
// Prints: parent: about to fork
//         child: hello
//         parent: child exited 0
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        std::printf("parent: about to fork\n");    // BUG: maybe still in the buffer ...
        pid_t pid = kit::check(::fork(), "fork");  // ... which fork() copies
        if (pid == 0) {
            std::printf("child: hello\n");
            std::exit(0);  // BUG: exit() flushes the child's copy of the buffer
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) == -1) {
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");
        }
        std::printf("parent: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 0;
    });
}
