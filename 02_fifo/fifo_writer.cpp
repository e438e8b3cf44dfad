// fifo_writer.cpp — one half of two unrelated processes meeting at a name.
// Creates the FIFO if it does not exist yet, opens it for writing (open()
// waits until some process opens it for reading), writes each MESSAGE as a
// line, and closes it — which the reader sees as EOF.
//
// Run:    ./fifo_writer /tmp/demo.fifo hello world      (terminal 1)
//         ./fifo_reader /tmp/demo.fifo                  (terminal 2)
//         rm /tmp/demo.fifo                             (the name outlives both)
// Prints: writer 1234: a reader opened /tmp/demo.fifo, wrote 2 lines
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH [MESSAGE...]", [](auto args) {
        if (args.empty()) throw kit::UsageError{"PATH is required"};
        const std::string path(args[0]);
        for (auto msg : args.subspan(1))
            if (msg.size() >= PIPE_BUF)
                throw kit::UsageError{"each MESSAGE must be < PIPE_BUF bytes"};
        // Either side may come first, so either side may create the name.
        if (::mkfifo(path.c_str(), 0600) == -1 && errno != EEXIST)
            throw kit::SysError(errno, "mkfifo " + path);

        int fd;
        while ((fd = ::open(path.c_str(), O_WRONLY)) == -1 && errno == EINTR) {
        }
        kit::check(fd, "open " + path);  // returns once a reader has it open
        std::size_t lines = 0;
        for (auto msg : args.subspan(1)) {
            // One write per line, each at most PIPE_BUF: lines from several
            // writers never mix.
            std::string line(msg);
            line += '\n';
            kit::write_all(fd, std::as_bytes(std::span(line)));
            ++lines;
        }
        kit::check(::close(fd), "close");
        std::fprintf(stderr, "writer %d: a reader opened %s, wrote %zu lines\n", int(::getpid()),
                     path.c_str(), lines);
        return 0;
    });
}
