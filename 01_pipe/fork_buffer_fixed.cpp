// fork_buffer_fixed.cpp — fork_buffer_broken.cpp, fixed: fflush(stdout)
// right before fork(), so the buffer the child copies is empty, and the child
// ends with _exit(), which flushes no stdio buffer it may have inherited
// (it flushes its own line first, on purpose). Every line comes out once,
// whether stdout is a terminal, a pipe or a file.
//
// Run:    ./fork_buffer_fixed | cat
// Prints: parent: about to fork
//         child: hello
//         parent: child exited 0
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        std::printf("parent: about to fork\n");
        std::fflush(stdout);  // the fix: empty the buffer before it is copied
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            std::printf("child: hello\n");
            std::fflush(stdout);  // what the child itself wrote
            ::_exit(0);           // no exit(): it would flush inherited buffers too
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) == -1) {
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");
        }
        std::printf("parent: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 0;
    });
}
