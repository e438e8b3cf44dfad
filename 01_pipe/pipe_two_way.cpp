// pipe_two_way.cpp — a pipe carries bytes one way only, so a request/reply
// conversation needs two pipes: one parent→child for requests, one
// child→parent for replies. Each side closes the two ends it does not use.
//
// Run:    ./pipe_two_way [WORD...]
// Prints: parent sent "ping", child replied "PING"
//         parent sent "pong", child replied "PONG"
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[WORD...]", [](auto args) {
        std::vector<std::string> words(args.begin(), args.end());
        if (words.empty()) words = {"ping", "pong"};
        for (const auto& w : words)
            if (w.empty() || w.size() > 200) throw kit::UsageError{"words must have 1..200 bytes"};

        int request[2], reply[2];
        kit::check(::pipe(request), "pipe");  // parent → child
        kit::check(::pipe(reply), "pipe");    // child → parent
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::close(request[1]);
            ::close(reply[0]);
            char buf[256];
            ssize_t n;
            // One request is in flight at a time and fits one write, so one
            // read() returns exactly one request.
            while ((n = ::read(request[0], buf, sizeof buf)) > 0) {
                for (ssize_t i = 0; i < n; ++i)
                    buf[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buf[i])));
                if (::write(reply[1], buf, static_cast<std::size_t>(n)) != n) ::_exit(1);
            }
            ::_exit(n == 0 ? 0 : 1);  // 0: EOF, the parent closed its request end
        }
        kit::check(::close(request[0]), "close");
        kit::check(::close(reply[1]), "close");
        for (const auto& w : words) {
            kit::write_all(request[1], std::as_bytes(std::span(w)));
            std::string answer(w.size(), '\0');
            auto got = kit::read_full(reply[0], std::as_writable_bytes(std::span(answer)));
            if (got != w.size()) throw kit::SysError(EPIPE, "read reply");
            std::printf("parent sent \"%s\", child replied \"%s\"\n", w.c_str(), answer.c_str());
        }
        kit::check(::close(request[1]), "close");  // tells the child: no more requests
        int status = 0;
        while (::waitpid(pid, &status, 0) == -1) {
            if (errno != EINTR) throw kit::SysError(errno, "waitpid");
        }
        kit::check(::close(reply[0]), "close");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
