// fifo_reader.cpp — the other half of fifo_writer.cpp. Creates the FIFO if it
// does not exist yet, opens it for reading (open() waits until a writer
// opens it), prints what arrives, and stops at EOF: when every process that
// had the FIFO open for writing has closed it. The name stays afterwards
// (rm it). Stopped by SIGINT or SIGTERM, it removes the name if it made it,
// and exits 128 + the signal; SIGKILL leaves the name behind.
//
// Run:    ./fifo_reader /tmp/demo.fifo                  (terminal 1)
//         ./fifo_writer /tmp/demo.fifo hello world      (terminal 2)
//         rm /tmp/demo.fifo                             (the name outlives both)
// Prints: hello
//         world
//         reader 1235: EOF after 12 bytes, every writer has closed
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

#include "kit/check.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;  // the signal that asked us to stop
void on_stop(int sig) { g_stop = sig; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH", [](auto args) {
        if (args.size() != 1) throw kit::UsageError{"PATH is required"};
        const std::string path(args[0]);
        // No SA_RESTART: SIGINT/SIGTERM interrupt open() and read() with EINTR.
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        for (int sig : {SIGINT, SIGTERM}) kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
        const bool made = ::mkfifo(path.c_str(), 0600) == 0;
        if (!made && errno != EEXIST) throw kit::SysError(errno, "mkfifo " + path);

        int fd;
        while ((fd = ::open(path.c_str(), O_RDONLY)) == -1 && errno == EINTR && g_stop == 0) {
        }
        // Stopped by a signal: remove the name if this process made it.
        auto stopped = [&] {
            if (made) kit::check(::unlink(path.c_str()), "unlink " + path);
            std::fprintf(stderr, "reader %d: SIG%s, %s %s\n", int(::getpid()),
                         sigabbrev_np(int(g_stop)), made ? "removed" : "left", path.c_str());
            return 128 + int(g_stop);
        };
        if (g_stop != 0) return stopped();  // while waiting for a writer
        kit::check(fd, "open " + path);     // returns once a writer has it open
        std::size_t total = 0;
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n == -1 && errno == EINTR && g_stop == 0) continue;
            if (n == -1 && g_stop != 0) break;
            kit::check(n, "read");
            if (n == 0) break;
            std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout);
            total += static_cast<std::size_t>(n);
        }
        std::fflush(stdout);
        kit::check(::close(fd), "close");
        if (g_stop != 0) return stopped();  // while reading
        std::fprintf(stderr, "reader %d: EOF after %zu bytes, every writer has closed\n",
                     int(::getpid()), total);
        return 0;
    });
}
