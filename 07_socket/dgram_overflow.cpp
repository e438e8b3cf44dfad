// dgram_overflow — a receiver that reads nothing: UDP drops datagrams, a
// Unix-domain datagram socket makes the sender wait (here: EAGAIN) and never
// drops one. (AF_UNIX charges unread datagrams to the SENDER's SO_SNDBUF, and a
// named receiver's queue to net.unix.max_dgram_qlen; SO_RCVBUF plays no part.)
//
// Run:    ./dgram_overflow [COUNT]          default 200 datagrams of 1000 bytes
// Prints: for each kind, how many sends succeeded and how many datagrams the
//         receiver — which reads nothing until the sender is done — finally got.
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"
#include "socket_addr.hpp"

namespace {

struct Result {
    long sent = 0;
    long refused = 0;  // sends that failed with EAGAIN
    long received = 0;
    long dropped = 0;  // the receiving socket's own drop counter
};

// SO_MEMINFO reports the socket's counters; SK_MEMINFO_DROPS counts datagrams
// that arrived but found the receive buffer full.
long drops(int fd) {
    std::array<std::uint32_t, SK_MEMINFO_VARS> info{};
    socklen_t len = sizeof info;
    kit::check(::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info.data(), &len), "getsockopt");
    return info[SK_MEMINFO_DROPS];
}

Result flood(int tx, int rx, long count) {
    Result r;
    std::array<char, 1000> payload{};
    for (long i = 0; i < count; ++i) {
        ssize_t n = ::send(tx, payload.data(), payload.size(), MSG_DONTWAIT);
        if (n == -1 && errno == EAGAIN) {
            ++r.refused;
            continue;
        }
        kit::check(n, "send");
        ++r.sent;
    }
    // Every datagram sent is either queued or counted as dropped; read until
    // the two add up (delivery on loopback may trail the last send a little).
    for (;;) {
        while (::recv(rx, payload.data(), payload.size(), MSG_DONTWAIT) > 0) ++r.received;
        if (errno != EAGAIN) throw kit::SysError(errno, "recv");
        r.dropped = drops(rx);
        if (r.received + r.dropped >= r.sent || !kit::wait_readable(rx, std::chrono::seconds(1)))
            return r;
    }
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[COUNT]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        const long count = args.empty() ? 200 : kit::parse_long(args[0], 1, 100000);
        const int small = 16 * 1024;  // UDP: the kernel doubles this and keeps a floor

        auto addr = ch07::inet4("127.0.0.1", 0);
        kit::Fd rx(kit::check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small),
                   "setsockopt");
        kit::check(::bind(rx.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), "bind");
        socklen_t alen = sizeof addr;  // getsockname: the port bind(port 0) picked
        kit::check(::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&addr), &alen),
                   "getsockname");
        kit::Fd tx(kit::check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::connect(tx.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                   "connect");
        Result udp = flood(tx.get(), rx.get(), count);
        std::printf("UDP          : %ld sent OK, %ld EAGAIN, %ld received, %ld dropped\n", udp.sent,
                    udp.refused, udp.received, udp.dropped);

        int sv[2];
        kit::check(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        kit::Fd utx(sv[0]), urx(sv[1]);
        Result unix_dgram = flood(utx.get(), urx.get(), count);
        std::printf("AF_UNIX DGRAM: %ld sent OK, %ld EAGAIN, %ld received, %ld dropped\n",
                    unix_dgram.sent, unix_dgram.refused, unix_dgram.received, unix_dgram.dropped);
        return 0;
    });
}
