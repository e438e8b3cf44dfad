// unix_stream_client — connects to a Unix-domain stream server by its path.
//
// Run:    ./unix_stream_client PATH MESSAGE       (a server must listen on PATH)
// Prints: "reply: ..." — what the server sent back before closing.
//         ENOENT if PATH does not exist, ECONNREFUSED if it exists but nobody listens.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH MESSAGE", [](auto args) {
        if (args.size() != 2) throw kit::UsageError{"expected PATH and MESSAGE"};
        const auto addr = ch07::unix_path(args[0]);

        kit::Fd fd(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::connect(fd.get(), addr.get(), addr.len), "connect");
        kit::write_all(fd.get(), std::as_bytes(std::span(args[1])));
        // Half-close: the server reads EOF, yet can still send its reply to us.
        kit::check(::shutdown(fd.get(), SHUT_WR), "shutdown");

        std::string reply;
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n == -1 && errno == EINTR) continue;
            kit::check(n, "read");
            if (n == 0) break;
            reply.append(buf, static_cast<std::size_t>(n));
        }
        std::printf("reply: %s\n", reply.c_str());
        return 0;
    });
}
