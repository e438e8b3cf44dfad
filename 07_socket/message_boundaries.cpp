// message_boundaries — SOCK_DGRAM and SOCK_SEQPACKET keep message boundaries,
// SOCK_STREAM does not.
//
// Run:    ./message_boundaries
// Prints: for each socket type, what ONE recv() with a 64-byte buffer returns
//         after TWO sends ("hello", "world") — the stream hands back both at
//         once; the message types hand back one message per recv(). Then what
//         a too-small buffer does to a datagram (the rest is discarded).
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace {

struct Kind {
    int type;
    const char* name;
};

std::string recv_once(int fd, std::size_t size, int* flags_out = nullptr) {
    std::array<char, 64> buf{};
    // MSG_TRUNC on a datagram socket: return the message's real length even
    // if it did not fit (the excess bytes are gone either way).
    ssize_t n = kit::check(::recv(fd, buf.data(), size, flags_out ? MSG_TRUNC : 0), "recv");
    if (flags_out) *flags_out = static_cast<int>(n);
    return std::string(buf.data(), std::min(static_cast<std::size_t>(n), size));
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        constexpr std::array kinds{Kind{SOCK_STREAM, "SOCK_STREAM   "},
                                   Kind{SOCK_SEQPACKET, "SOCK_SEQPACKET"},
                                   Kind{SOCK_DGRAM, "SOCK_DGRAM    "}};
        for (const auto& k : kinds) {
            int sv[2];
            kit::check(::socketpair(AF_UNIX, k.type | SOCK_CLOEXEC, 0, sv), "socketpair");
            kit::Fd a(sv[0]), b(sv[1]);
            // Both sends complete before the first recv: whatever one recv()
            // returns is decided by the socket type alone, not by timing.
            kit::check(::send(a.get(), "hello", 5, 0), "send");
            kit::check(::send(a.get(), "world", 5, 0), "send");
            std::string first = recv_once(b.get(), 64);
            std::printf("%s 2 sends, 1 recv(64) -> %zu bytes \"%s\"\n", k.name, first.size(),
                        first.c_str());
        }

        int sv[2];
        kit::check(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        kit::Fd a(sv[0]), b(sv[1]);
        kit::check(::send(a.get(), "hello", 5, 0), "send");
        kit::check(::send(a.get(), "world", 5, 0), "send");
        int real_len = 0;
        std::string part = recv_once(b.get(), 3, &real_len);
        std::string next = recv_once(b.get(), 64);
        std::printf("SOCK_DGRAM     recv(3) -> \"%s\" of a %d-byte message; next recv -> \"%s\"\n",
                    part.c_str(), real_len, next.c_str());
        return 0;
    });
}
