// bus_publish — a publisher on the message bus: sends each MESSAGE on TOPIC
// and waits for the broker to say to how many subscribers it went.
//
// Run:    ./bus_broker NAME &     ./bus_subscribe NAME TOPIC &
//         ./bus_publish NAME TOPIC MESSAGE...
// Prints: "published 'MESSAGE' on TOPIC -> N subscriber(s)" per message.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "bus_message.hpp"
#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "NAME TOPIC MESSAGE...", [](auto args) {
        if (args.size() < 3) throw kit::UsageError{"expected NAME, TOPIC and at least one MESSAGE"};
        const auto addr = ch07::unix_abstract(args[0]);
        const std::string topic(args[1]);

        kit::Fd fd(kit::check(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::connect(fd.get(), addr.get(), addr.len), "connect");
        for (auto body : args.subspan(2)) {
            const std::string out = ch07::encode({'P', topic, std::string(body)});
            if (out.empty())
                throw kit::UsageError{"TOPIC must be 1..64 bytes, a MESSAGE at most 4000"};
            kit::check(::send(fd.get(), out.data(), out.size(), MSG_NOSIGNAL), "send");

            char buf[ch07::kMaxMessage + 1];  // SOCK_SEQPACKET: one recv() is one whole message
            ssize_t n;
            while ((n = ::recv(fd.get(), buf, sizeof buf, 0)) == -1 && errno == EINTR) {
            }
            kit::check(n, "recv");
            std::string why = "the broker closed the connection";
            auto ack =
                n > 0 ? ch07::decode({buf, static_cast<std::size_t>(n)}, &why) : std::nullopt;
            if (!ack || ack->kind != 'A') throw kit::SysError(EPROTO, "recv (" + why + ")");
            std::printf("published '%.*s' on %s -> %s subscriber(s)\n", int(body.size()),
                        body.data(), topic.c_str(), ack->body.c_str());
        }
        return 0;
    });
}
