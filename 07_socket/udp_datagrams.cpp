// udp_datagrams — UDP for contrast with TCP: no connection, one datagram per
// recv(), and nobody tells the sender whether anyone was listening.
//
// Run:    ./udp_datagrams
// Prints: two sendto()s read back as two separate datagrams (with the sender's
//         address from recvfrom()), then a datagram "sent" successfully to a
//         port where nobody listens — the error (ECONNREFUSED, from an ICMP
//         reply) only surfaces on a later call of a connect()ed UDP socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"
#include "socket_addr.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        auto addr = ch07::inet4("127.0.0.1", 0);
        kit::Fd rx(kit::check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::bind(rx.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), "bind");
        socklen_t alen = sizeof addr;  // getsockname: the port bind(port 0) picked
        kit::check(::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&addr), &alen),
                   "getsockname");

        kit::Fd tx(kit::check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
        for (const char* msg : {"hello", "world"})
            kit::check(::sendto(tx.get(), msg, std::strlen(msg), 0,
                                reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                       "sendto");
        for (int i = 0; i < 2; ++i) {
            if (!kit::wait_readable(rx.get())) throw kit::SysError(ETIMEDOUT, "poll");
            char buf[64];
            sockaddr_in from{};
            socklen_t len = sizeof from;
            ssize_t n = kit::check(
                ::recvfrom(rx.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len),
                "recvfrom");
            std::printf("recvfrom(64) -> %zd bytes \"%.*s\" from 127.0.0.1:%u\n", n, int(n), buf,
                        ntohs(from.sin_port));
        }

        // Free a port, then send to it: UDP has no handshake to fail.
        const unsigned short dead_port = ntohs(addr.sin_port);
        rx.reset();
        kit::check(::connect(tx.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                   "connect");
        ssize_t n = kit::check(::send(tx.get(), "anyone?", 7, 0), "send");
        std::printf("send() to closed port %u -> %zd (success)\n", dead_port, n);
        // The ICMP "port unreachable" comes back asynchronously as a pending
        // socket error; poll() reports it as POLLERR, the next call returns it.
        (void)kit::wait_for_events(tx.get(), POLLIN);
        char buf[8];
        ssize_t r = ::recv(tx.get(), buf, sizeof buf, MSG_DONTWAIT);
        int err = errno;
        std::printf("next recv() -> %zd, errno %s\n", r, r == -1 ? strerrorname_np(err) : "none");
        return 0;
    });
}
