// tee_duplicate.cpp — tee() duplicates a pipe's contents into a second pipe
// without consuming them: the same bytes are then read by two processes. tee()
// copies no byte (pipe b gets references to pipe a's pages); each reader's
// read() then copies once.
//
// Run:    ./tee_duplicate
// Prints: what the child read from the second pipe and what the parent then
//         read from the first: the same message twice.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>

#include "kit/check.hpp"
#include "kit/fd.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        constexpr std::string_view msg = "one message, two readers";
        int a[2], b[2];
        kit::check(::pipe(a), "pipe");
        kit::check(::pipe(b), "pipe");
        kit::check(::write(a[1], msg.data(), msg.size()), "write");

        ssize_t n = kit::check(::tee(a[0], b[1], msg.size(), 0), "tee");  // a still holds it all
        std::printf("tee duplicated %zd bytes from pipe a to pipe b\n", n);
        std::fflush(stdout);

        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // the second reader: gets pipe b
            char buf[64];
            ssize_t got = kit::check(::read(b[0], buf, sizeof buf), "read");
            std::printf("child  read from b: \"%.*s\"\n", int(got), buf);
            std::fflush(stdout);
            ::_exit(0);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        char buf[64];
        ssize_t got = kit::check(::read(a[0], buf, sizeof buf), "read");
        std::printf("parent read from a: \"%.*s\"\n", int(got), buf);
        return status == 0 ? 0 : 1;
    });
}
