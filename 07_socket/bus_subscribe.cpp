// bus_subscribe — a subscriber of the message bus: names one topic, then
// prints every message published on it.
//
// Run:    ./bus_broker NAME &     then: ./bus_subscribe NAME TOPIC [COUNT]
// Prints: "subscribed to TOPIC" once the broker has confirmed (only then can
//         a publisher count on it), then "TOPIC: BODY" per message; it exits
//         after COUNT messages (default: when the broker goes away).
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "bus_message.hpp"
#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

namespace {

// One whole message, checked against the schema; nothing at EOF.
std::optional<ch07::Message> receive(int fd) {
    char buf[ch07::kMaxMessage + 1];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) == -1 && errno == EINTR) {
    }
    kit::check(n, "recv");
    if (n == 0) return std::nullopt;
    std::string why;
    auto m = ch07::decode({buf, static_cast<std::size_t>(n)}, &why);
    if (!m) throw kit::SysError(EPROTO, "recv (" + why + ")");
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "NAME TOPIC [COUNT]", [](auto args) {
        if (args.size() < 2) throw kit::UsageError{"expected the broker's NAME and a TOPIC"};
        if (args.size() > 3) throw kit::unexpected(args[3]);
        const long count = args.size() == 3 ? kit::parse_long(args[2], 1, 1000000) : -1;
        const auto addr = ch07::unix_abstract(args[0]);
        const std::string subscribe = ch07::encode({'S', std::string(args[1]), ""});
        if (subscribe.empty()) throw kit::UsageError{"TOPIC must be 1..64 bytes"};

        kit::Fd fd(kit::check(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::connect(fd.get(), addr.get(), addr.len), "connect");
        kit::check(::send(fd.get(), subscribe.data(), subscribe.size(), MSG_NOSIGNAL), "send");
        auto ack = receive(fd.get());
        if (!ack || ack->kind != 'A') throw kit::SysError(EPROTO, "recv (no acknowledgement)");
        std::printf("subscribed to %.*s\n", int(args[1].size()), args[1].data());
        std::fflush(stdout);

        long got = 0;
        while (count < 0 || got < count) {
            auto m = receive(fd.get());
            if (!m) break;  // the broker is gone
            std::printf("%s: %s\n", m->topic.c_str(), m->body.c_str());
            std::fflush(stdout);
            ++got;
        }
        return 0;
    });
}
