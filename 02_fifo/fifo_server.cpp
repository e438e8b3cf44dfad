// fifo_server.cpp — one server, many clients, all unrelated processes.
// Clients write fixed-size requests (fifo_request.hpp) into one well-known
// FIFO; the server answers each through that client's own reply FIFO.
//   * The server opens the request FIFO for writing too, and never writes:
//     while it holds a write end, read() cannot return EOF when the last
//     client leaves, so it blocks for the next client instead of spinning.
//   * SIGPIPE is ignored and every reply error is handled: a client that
//     vanished before its reply costs one log line (ENXIO when its FIFO has
//     no reader, EPIPE when the reader left during the write, ENOENT when
//     the name is gone), never the server.
//   * SIGINT and SIGTERM (Ctrl-C, kill) stop it cleanly: they are blocked and
//     read from a signalfd beside the FIFO, so the loop ends and the FIFO's
//     name is removed. SIGKILL cannot be caught: it leaves the name behind
//     (remove it with rm; the bytes in the FIFO die with the process).
//
// Run:    ./fifo_server /tmp/demo.srv [COUNT]    (COUNT requests, 0 = until SIGINT)
//         ./fifo_client /tmp/demo.srv hello      (in other terminals)
// Prints: server: ready on /tmp/demo.srv
//         server: 1236 asked "hello", replied "HELLO"
//         server: 1237 vanished before its reply (open: ENXIO)
//         server: 2 requests, 1 replied, 1 vanished
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "fifo_request.hpp"
#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

using ch02::Request;

namespace {

// Returns 0, or the errno that shows the client is gone.
int reply(const Request& req) {
    // O_NONBLOCK: a client without a reader must not block the server.
    kit::Fd out(::open(req.reply_path, O_WRONLY | O_NONBLOCK));
    if (!out) return errno;
    std::string text(req.text, strnlen(req.text, sizeof req.text));
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (::write(out.get(), text.data(), text.size()) == -1) return errno;  // EPIPE, not SIGPIPE
    std::printf("server: %d asked \"%s\", replied \"%s\"\n", int(req.pid),
                std::string(req.text, text.size()).c_str(), text.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "REQUEST_FIFO [COUNT]", [](auto args) {
        if (args.empty() || args.size() > 2) throw kit::UsageError{};
        const std::string path(args[0]);
        const long count = args.size() > 1 ? kit::parse_long(args[1], 0, 1'000'000) : 0;
        if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) throw kit::SysError(errno, "signal");
        sigset_t stop;  // SIGINT, SIGTERM: delivered as data on a signalfd
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        kit::check_err(::pthread_sigmask(SIG_BLOCK, &stop, nullptr), "pthread_sigmask");
        kit::Fd sig(kit::check(::signalfd(-1, &stop, SFD_CLOEXEC), "signalfd"));
        if (::mkfifo(path.c_str(), 0622) == -1 && errno != EEXIST)
            throw kit::SysError(errno, "mkfifo " + path);
        auto name = kit::unlink_guard(path);  // the well-known name goes with the server

        // O_NONBLOCK: do not wait in open() for a first client; then blocking reads.
        kit::Fd in(kit::check(::open(path.c_str(), O_RDONLY | O_NONBLOCK), "open"));
        kit::Fd keep(kit::check(::open(path.c_str(), O_WRONLY), "open"));  // never EOF
        kit::check(::fcntl(in.get(), F_SETFL, 0), "fcntl F_SETFL");
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        std::printf("server: ready on %s\n", path.c_str());

        long served = 0, vanished = 0;
        while (count == 0 || served + vanished < count) {
            pollfd fds[2] = {{in.get(), POLLIN, 0}, {sig.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) == -1) {
                if (errno == EINTR) continue;
                throw kit::SysError(errno, "poll");
            }
            if (fds[1].revents & POLLIN) {
                signalfd_siginfo si{};
                kit::check(::read(sig.get(), &si, sizeof si), "read signalfd");
                std::printf("server: SIG%s, removing %s\n", sigabbrev_np(int(si.ssi_signo)),
                            path.c_str());
                break;  // the guard unlinks the name
            }
            Request req{};
            if (kit::read_full(in.get(), std::as_writable_bytes(std::span(&req, 1))) != sizeof req)
                throw kit::SysError(EPROTO, "read request");
            req.reply_path[sizeof req.reply_path - 1] = '\0';
            if (int err = reply(req); err == 0) {
                ++served;
            } else {
                ++vanished;
                std::printf("server: %d vanished before its reply (%s: %s)\n", int(req.pid),
                            err == EPIPE ? "write" : "open", strerrorname_np(err));
            }
        }
        std::printf("server: %ld requests, %ld replied, %ld vanished\n", served + vanished, served,
                    vanished);
        return 0;
    });
}
