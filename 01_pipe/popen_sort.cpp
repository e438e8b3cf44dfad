// popen_sort.cpp — popen() is the C library's pipe() + fork() + exec of
// "/bin/sh -c COMMAND"; pclose() closes the pipe and waits for the child,
// returning its wait status. Here one popen reads a command's output and
// another writes a command's input.
//
// Run:    ./popen_sort
// Prints: read from "printf 'b\na\nc\n'": 3 lines
//         sort printed:
//         a
//         b
//         c
//         pclose: sort exited 0
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        std::fflush(nullptr);  // the children share our stdout

        // "r": the child's stdout is the write end, we hold the read end.
        FILE* in =
            kit::check(::popen("printf 'b\\na\\nc\\n'", "r"), static_cast<FILE*>(nullptr), "popen");
        std::vector<std::string> lines;
        char buf[256];
        while (std::fgets(buf, sizeof buf, in)) lines.emplace_back(buf);
        int status = kit::check(::pclose(in), "pclose");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
        std::printf("read from \"printf 'b\\na\\nc\\n'\": %zu lines\nsort printed:\n",
                    lines.size());
        std::fflush(stdout);

        // "w": we hold the write end, the child's stdin is the read end.
        FILE* out = kit::check(::popen("sort", "w"), static_cast<FILE*>(nullptr), "popen");
        for (const auto& l : lines) std::fputs(l.c_str(), out);
        status = kit::check(::pclose(out), "pclose");  // EOF for sort, then waitpid
        std::printf("pclose: sort exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
