// fifo_client.cpp — a client of fifo_server.cpp. It makes its own reply FIFO,
// opens it for reading BEFORE asking (non-blocking, so that open returns at
// once and the server's non-blocking open for writing finds a reader), writes
// one request (one atomic write: <= PIPE_BUF), then waits for the answer.
//
// Run:    ./fifo_client /tmp/demo.srv hello     (with ./fifo_server running)
// Prints: client 1236: "hello" -> "HELLO"
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "fifo_request.hpp"
#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

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

        kit::check(::mkfifo(mine.c_str(), 0600), "mkfifo " + mine);
        auto name = kit::unlink_guard(mine);
        kit::Fd in(kit::check(::open(mine.c_str(), O_RDONLY | O_NONBLOCK), "open " + mine));

        kit::Fd out(kit::check(::open(server.c_str(), O_WRONLY), "open " + server));
        if (kit::check(::write(out.get(), &req, sizeof req), "write") != sizeof req)
            throw kit::SysError(EPROTO, "short write");  // cannot happen: <= PIPE_BUF

        // Until the server has opened our FIFO, poll() reports nothing (no
        // POLLHUP for a FIFO that never had a writer); then data, then EOF.
        std::string answer;
        for (;;) {
            pollfd p{in.get(), POLLIN, 0};
            int n = ::poll(&p, 1, 5000);
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
