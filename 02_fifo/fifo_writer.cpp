// fifo_writer.cpp — one half of two unrelated processes meeting at a name.
// Creates the FIFO if it does not exist yet, opens it for writing (open()
// waits until some process opens it for reading), writes each MESSAGE as a
// line, and closes it — which the reader sees as EOF. The name stays
// afterwards (rm it). Stopped by SIGINT or SIGTERM while waiting in open(), it
// removes the name if it made it, and exits 128 + the signal; SIGKILL leaves
// the name behind.
//
// Run:    ./fifo_writer /tmp/demo.fifo hello world      (terminal 1)
//         ./fifo_reader /tmp/demo.fifo                  (terminal 2)
//         rm /tmp/demo.fifo                             (the name outlives both)
// Prints: writer 1234: a reader opened /tmp/demo.fifo, wrote 2 lines
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;  // the signal that asked us to stop
void on_stop(int sig) { g_stop = sig; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH [MESSAGE...]", [](auto args) {
        if (args.empty()) throw kit::UsageError{"PATH is required"};
        const std::string path(args[0]);
        for (auto msg : args.subspan(1))
            if (msg.size() >= PIPE_BUF)
                throw kit::UsageError{"each MESSAGE must be < PIPE_BUF bytes"};
        // No SA_RESTART: SIGINT/SIGTERM interrupt the waiting open() with EINTR.
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        for (int sig : {SIGINT, SIGTERM}) kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
        // Either side may come first, so either side may create the name.
        const bool made = ::mkfifo(path.c_str(), 0600) == 0;
        if (!made && errno != EEXIST) throw kit::SysError(errno, "mkfifo " + path);

        int fd;
        while ((fd = ::open(path.c_str(), O_WRONLY)) == -1 && errno == EINTR && g_stop == 0) {
        }
        if (g_stop != 0) {  // stopped before any reader came: leave nothing behind
            if (made) kit::check(::unlink(path.c_str()), "unlink " + path);
            std::fprintf(stderr, "writer %d: SIG%s, %s %s\n", int(::getpid()),
                         sigabbrev_np(int(g_stop)), made ? "removed" : "left", path.c_str());
            return 128 + int(g_stop);
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
