// unix_stream_server — a Unix-domain stream server bound to a filesystem path.
//
// Run:    ./unix_stream_server [PATH [CLIENTS]]
//         then, in another terminal: ./unix_stream_client PATH hi
//         Without PATH it picks a unique one under $TMPDIR (or /tmp) and prints it.
// Prints: "listening on PATH", then for each client the bytes it echoed back in
//         upper case; after CLIENTS clients (default 1) it removes PATH and exits.
//         A leftover socket file from a crashed server (nobody listening) is
//         detected and replaced; a live server on PATH is left alone.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "socket_addr.hpp"

namespace {

// bind() fails with EADDRINUSE while the path exists, even if the server that
// created it is long dead. Tell a stale file from a live server by connecting.
void bind_replacing_stale(int fd, const sock::UnixAddress& addr) {
    if (::bind(fd, addr.get(), addr.len) == 0) return;
    if (errno != EADDRINUSE) throw kit::SysError(errno, "bind");
    kit::Fd probe(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    if (::connect(probe.get(), addr.get(), addr.len) == 0)
        throw kit::SysError(EADDRINUSE, "bind (a live server owns the path)");
    if (errno != ECONNREFUSED) throw kit::SysError(errno, "connect (probe)");
    std::printf("bind: EADDRINUSE, but nobody listens (ECONNREFUSED): stale file, unlinking\n");
    kit::check(::unlink(addr.addr.sun_path), "unlink");
    kit::check(::bind(fd, addr.get(), addr.len), "bind");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PATH [CLIENTS]]", [](auto args) {
        if (args.size() > 2) throw kit::unexpected(args[2]);
        const std::string path =
            args.size() >= 1 ? std::string(args[0]) : kit::unique_temp_path("echo.sock");
        const long clients = args.size() >= 2 ? kit::parse_long(args[1], 1, 1000) : 1;
        const auto addr = sock::unix_path(path);

        kit::Fd listener(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        bind_replacing_stale(listener.get(), addr);
        // The file now exists; it outlives the socket unless someone unlinks it.
        auto remove_path = kit::unlink_guard(path);
        kit::check(::listen(listener.get(), 16), "listen");
        std::printf("listening on %s\n", path.c_str());
        std::fflush(stdout);  // whoever waits for this line may start a client now

        for (long served = 1; served <= clients; ++served) {
            kit::Fd conn;
            for (;;) {
                int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
                if (c == -1 && errno == EINTR) continue;
                conn.reset(kit::check(c, "accept4"));
                break;
            }
            std::size_t total = 0;
            char buf[4096];
            for (;;) {
                ssize_t n = ::read(conn.get(), buf, sizeof buf);
                if (n == -1 && errno == EINTR) continue;
                kit::check(n, "read");
                if (n == 0) break;  // the client shut down its sending side
                for (ssize_t i = 0; i < n; ++i)
                    buf[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buf[i])));
                kit::write_all(conn.get(),
                               std::as_bytes(std::span(buf, static_cast<std::size_t>(n))));
                total += static_cast<std::size_t>(n);
            }
            std::printf("client %ld: echoed %zu bytes\n", served, total);
        }
        kit::check(::unlink(path.c_str()), "unlink");
        remove_path.dismiss();
        std::printf("served %ld client(s), removed %s\n", clients, path.c_str());
        return 0;
    });
}
