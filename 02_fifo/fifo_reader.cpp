// fifo_reader.cpp — the other half of fifo_writer.cpp. Creates the FIFO if it
// does not exist yet, opens it for reading (open() waits until a writer
// opens it), prints what arrives, and stops at EOF: when every process that
// had the FIFO open for writing has closed it.
//
// Run:    ./fifo_reader /tmp/demo.fifo                  (terminal 1)
//         ./fifo_writer /tmp/demo.fifo hello world      (terminal 2)
//         rm /tmp/demo.fifo                             (the name outlives both)
// Prints: hello
//         world
//         reader 1235: EOF after 12 bytes, every writer has closed
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH", [](auto args) {
        if (args.size() != 1) throw kit::UsageError{"PATH is required"};
        const std::string path(args[0]);
        if (::mkfifo(path.c_str(), 0600) == -1 && errno != EEXIST)
            throw kit::SysError(errno, "mkfifo " + path);

        int fd;
        while ((fd = ::open(path.c_str(), O_RDONLY)) == -1 && errno == EINTR) {
        }
        kit::check(fd, "open " + path);  // returns once a writer has it open
        std::size_t total = 0;
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n == -1 && errno == EINTR) continue;
            kit::check(n, "read");
            if (n == 0) break;
            std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout);
            total += static_cast<std::size_t>(n);
        }
        std::fflush(stdout);
        kit::check(::close(fd), "close");
        std::fprintf(stderr, "reader %d: EOF after %zu bytes, every writer has closed\n",
                     int(::getpid()), total);
        return 0;
    });
}
