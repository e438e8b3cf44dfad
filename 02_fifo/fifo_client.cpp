// fifo_client.cpp — a client of fifo_server.cpp. It makes its own reply FIFO,
// opens it for reading BEFORE asking (non-blocking, so that open returns at
// once and the server's non-blocking open for writing finds a reader), writes
// one request (one atomic write: <= PIPE_BUF), then waits for the answer.
// Stopped by SIGINT or SIGTERM while it waits, it removes its reply FIFO and
// exits 128 + the signal; SIGKILL leaves "<REQUEST_FIFO>.<pid>" behind.
//
// Run:    ./fifo_client /tmp/demo.srv hello     (with ./fifo_server running)
// Prints: client 1236: "hello" -> "HELLO"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "fifo_request.hpp"
#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

using ch02::reply_path_for;
using ch02::Request;

namespace {

volatile std::sig_atomic_t g_stop = 0;  // the signal that asked us to stop
void on_stop(int sig) { g_stop = sig; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "REQUEST_FIFO TEXT", [](auto args) {
        if (args.size() != 2) throw kit::UsageError{};
        const std::string server(args[0]);
        Request req{};
        req.pid = ::getpid();
        const std::string mine = reply_path_for(server, req.pid);
        if (mine.size() >= sizeof req.reply_path || args[1].size() >= sizeof req.text)
            throw kit::UsageError{"path or text too long"};
        std::memcpy(req.reply_path, mine.c_str(), mine.size());
        std::memcpy(req.text, args[1].data(), args[1].size());

        // No SA_RESTART: SIGINT/SIGTERM interrupt open() and poll() with EINTR.
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        for (int sig : {SIGINT, SIGTERM}) kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
        auto stopped = [&] {  // the guard below removes the reply FIFO on return
            std::fprintf(stderr, "client %d: SIG%s, removing %s\n", int(req.pid),
                         sigabbrev_np(int(g_stop)), mine.c_str());
            return 128 + int(g_stop);
        };

        kit::check(::mkfifo(mine.c_str(), 0600), "mkfifo " + mine);
        auto name = kit::unlink_guard(mine);
        kit::Fd in(kit::check(::open(mine.c_str(), O_RDONLY | O_NONBLOCK), "open " + mine));

        int fd;  // waits for a server to have the request FIFO open
        while ((fd = ::open(server.c_str(), O_WRONLY)) == -1 && errno == EINTR && g_stop == 0) {
        }
        if (g_stop != 0) return stopped();
        kit::Fd out(kit::check(fd, "open " + server));
        if (kit::check(::write(out.get(), &req, sizeof req), "write") != sizeof req)
            throw kit::SysError(EPROTO, "short write");  // cannot happen: <= PIPE_BUF

        // Until the server has opened our FIFO, poll() reports nothing (no
        // POLLHUP for a FIFO that never had a writer); then data, then EOF.
        std::string answer;
        for (;;) {
            pollfd p{in.get(), POLLIN, 0};
            int n = ::poll(&p, 1, 5000);
            if (g_stop != 0) return stopped();
            if (n == -1 && errno == EINTR) continue;
            if (kit::check(n, "poll") == 0) throw kit::SysError(ETIMEDOUT, "wait for reply");
            char buf[512];
            ssize_t got = ::read(in.get(), buf, sizeof buf);
            if (got == -1 && (errno == EINTR || errno == EAGAIN)) continue;
            if (kit::check(got, "read") == 0) break;  // the server closed: reply complete
            answer.append(buf, static_cast<std::size_t>(got));
        }
        std::printf("client %d: \"%s\" -> \"%s\"\n", int(req.pid), req.text, answer.c_str());
        return 0;
    });
}
