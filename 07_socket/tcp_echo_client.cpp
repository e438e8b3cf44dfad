// tcp_echo_client — sends length-prefixed messages over TCP and reads each one
// back whole, however the byte stream happens to be cut into reads.
//
// Run:    ./tcp_echo_server &          (prints "listening on 127.0.0.1:PORT")
//         ./tcp_echo_client 127.0.0.1 PORT hello "two words" ...
// Prints: "echo: <message>" for each message, then the TCP_NODELAY setting used.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

namespace {

// A frame is a 4-byte big-endian length, then that many bytes. TCP keeps the
// bytes and their order but not where one write ended; the length does.
std::string frame(std::string_view body) {
    const std::uint32_t len = htonl(static_cast<std::uint32_t>(body.size()));
    std::string out(reinterpret_cast<const char*>(&len), sizeof len);
    return out.append(body);
}

// read() may return fewer bytes than asked (a short read): loop until we have
// exactly buf.size() bytes, or fail if the peer closes in the middle.
void read_exact(int fd, std::span<char> buf) {
    std::size_t got = kit::read_full(fd, std::as_writable_bytes(buf));
    if (got != buf.size()) throw kit::SysError(ECONNRESET, "read (peer closed mid-frame)");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "HOST PORT MESSAGE...", [](auto args) {
        if (args.size() < 3) throw kit::UsageError{"expected HOST PORT and at least one MESSAGE"};
        const auto addr =
            ch07::inet4(args[0], static_cast<unsigned short>(kit::parse_long(args[1], 1, 65535)));

        kit::Fd fd(kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                   "connect");
        // Request/response with small messages: send each one now rather than
        // let Nagle's algorithm hold it back waiting for an ACK.
        int one = 1;
        kit::check(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one),
                   "setsockopt");

        for (auto msg : args.subspan(2)) {
            const std::string out = frame(msg);
            kit::write_all(fd.get(), std::as_bytes(std::span(out)));
            std::uint32_t len_be = 0;
            read_exact(fd.get(), std::span(reinterpret_cast<char*>(&len_be), sizeof len_be));
            std::string body(ntohl(len_be), '\0');
            read_exact(fd.get(), body);
            std::printf("echo: %s\n", body.c_str());
        }
        int nodelay = 0;
        socklen_t len = sizeof nodelay;
        kit::check(::getsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), "getsockopt");
        std::printf("TCP_NODELAY=%d\n", nodelay);
        return 0;
    });
}
