// tcp_reuseaddr — why servers set SO_REUSEADDR: restarting on the same port.
//
// Run:    ./tcp_reuseaddr
// Prints: a server on 127.0.0.1:<free port> serves one connection and closes
//         it first (so its side lingers in TIME_WAIT), then exits. Binding a
//         new listener to that port fails with EADDRINUSE without SO_REUSEADDR
//         and succeeds with it.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

namespace {

kit::Fd tcp_socket(bool reuse) {
    kit::Fd fd(kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    int on = reuse ? 1 : 0;
    kit::check(::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), "setsockopt");
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        auto addr = ch07::inet4("127.0.0.1", 0);
        unsigned short port = 0;
        {
            kit::Fd listener = tcp_socket(true);
            kit::check(
                ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                "bind");
            kit::check(::listen(listener.get(), 1), "listen");
            socklen_t alen = sizeof addr;  // getsockname: the port bind(port 0) picked
            kit::check(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &alen),
                       "getsockname");
            port = ntohs(addr.sin_port);

            kit::Fd client(kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
            kit::check(
                ::connect(client.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                "connect");
            kit::Fd served(
                kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
            served.reset();  // the server closes first: its end goes to FIN_WAIT, then TIME_WAIT
            char c;
            kit::check(::read(client.get(), &c, 1), "read");  // 0: EOF, the server's FIN arrived
        }  // client and listener closed: no process holds the port any more
        std::printf("server on port %u closed its connection first and exited\n", port);

        std::ifstream tcp("/proc/net/tcp");
        char hexport[8];
        std::snprintf(hexport, sizeof hexport, ":%04X ", port);
        for (std::string line; std::getline(tcp, line);)
            if (line.find(hexport) != std::string::npos && line.find(hexport) < 20) {
                const std::string st = line.substr(34, 2);
                std::printf("/proc/net/tcp: local %s state %s (%s)\n", line.substr(6, 13).c_str(),
                            st.c_str(),
                            st == "06"   ? "TIME_WAIT"
                            : st == "05" ? "FIN_WAIT2"
                                         : "other");
            }

        for (bool reuse : {false, true}) {
            kit::Fd again = tcp_socket(reuse);
            int rc = ::bind(again.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
            int err = errno;
            std::printf("restart, SO_REUSEADDR=%d: bind() -> %s\n", reuse ? 1 : 0,
                        rc == 0 ? "ok" : strerrorname_np(err));
        }
        return 0;
    });
}
