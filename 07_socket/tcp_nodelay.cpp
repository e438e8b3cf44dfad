// tcp_nodelay — why small request/response traffic over TCP wants TCP_NODELAY.
//
// Run:    ./tcp_nodelay [ROUNDS]        default 10
// Prints: the time ROUNDS request/response exchanges take on 127.0.0.1 when
//         each request is written in two small pieces (header, then body) —
//         first with Nagle's algorithm (the default), then with TCP_NODELAY.
//         With Nagle the body waits for the ACK of the header, and the server,
//         still waiting for the body, delays that ACK: tens of ms per round.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

namespace {

// The server: read a 4-byte header and a 4-byte body, answer with one byte.
void serve(int listener, long rounds) {
    kit::Fd c(kit::check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
    for (long i = 0; i < rounds; ++i) {
        char req[8];
        if (kit::read_full(c.get(), std::as_writable_bytes(std::span(req))) != sizeof req)
            throw kit::SysError(ECONNRESET, "read");
        kit::write_all(c.get(), std::as_bytes(std::span("k", 1)));
    }
}

double run_client(unsigned short port, long rounds, int nodelay) {
    const auto addr = ch07::inet4("127.0.0.1", port);
    kit::Fd fd(kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    kit::check(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay),
               "setsockopt");
    kit::check(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
               "connect");
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < rounds; ++i) {
        kit::write_all(fd.get(), std::as_bytes(std::span("HEAD", 4)));  // two small writes
        kit::write_all(fd.get(), std::as_bytes(std::span("BODY", 4)));  // per request
        char reply;
        if (kit::read_full(fd.get(), std::as_writable_bytes(std::span(&reply, 1))) != 1)
            throw kit::SysError(ECONNRESET, "read");
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[ROUNDS]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        const long rounds = args.empty() ? 10 : kit::parse_long(args[0], 1, 10000);
        for (int nodelay : {0, 1}) {
            auto addr = ch07::inet4("127.0.0.1", 0);  // port 0: any free port
            kit::Fd listener(
                kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
            kit::check(
                ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                "bind");
            kit::check(::listen(listener.get(), 1), "listen");
            std::fflush(nullptr);
            pid_t pid = kit::check(::fork(), "fork");
            if (pid == 0) {
                serve(listener.get(), rounds);
                ::_exit(0);
            }
            socklen_t alen = sizeof addr;  // getsockname: the port bind() picked
            kit::check(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &alen),
                       "getsockname");
            double ms = run_client(ntohs(addr.sin_port), rounds, nodelay);
            int ws = 0;
            kit::check(::waitpid(pid, &ws, 0), "waitpid");
            std::printf("%-24s %ld round trips in %8.2f ms\n",
                        nodelay ? "TCP_NODELAY=1:" : "TCP_NODELAY=0 (Nagle):", rounds, ms);
        }
        return 0;
    });
}
