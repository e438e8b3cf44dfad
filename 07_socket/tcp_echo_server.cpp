// tcp_echo_server — one process, one thread, many TCP clients at once (epoll).
//
// Run:    ./tcp_echo_server [ADDR [PORT [CLIENTS]]]     defaults: 127.0.0.1 0 1
//         PORT 0 lets the kernel choose a free port; the line "listening on
//         ADDR:PORT" says which. It exits after CLIENTS connections have closed.
//         Across machines: ./tcp_echo_server 0.0.0.0 5000 on one host and
//         ./tcp_echo_client <its address> 5000 hi on another.
// Prints: "listening on ...", one line per connection opened and closed.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[ADDR [PORT [CLIENTS]]]", [](auto args) {
        if (args.size() > 3) throw kit::unexpected(args[3]);
        const auto addr = ch07::inet4(
            args.size() >= 1 ? args[0] : "127.0.0.1",
            args.size() >= 2 ? static_cast<unsigned short>(kit::parse_long(args[1], 0, 65535)) : 0);
        const long clients = args.size() >= 3 ? kit::parse_long(args[2], 1, 100000) : 1;

        kit::Fd listener(
            kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket"));
        // Restarting a server must not wait for old connections in TIME_WAIT.
        int one = 1;
        kit::check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one),
                   "setsockopt");
        kit::check(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr),
                   "bind");
        kit::check(::listen(listener.get(), 128), "listen");
        sockaddr_in bound{};  // getsockname: the port bind() picked when PORT is 0
        socklen_t blen = sizeof bound;
        kit::check(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &blen),
                   "getsockname");
        std::printf("listening on %s:%u\n",
                    args.size() >= 1 ? std::string(args[0]).c_str() : "127.0.0.1",
                    ntohs(bound.sin_port));
        std::fflush(stdout);

        kit::Fd ep(kit::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
        epoll_event ev{EPOLLIN, {.fd = listener.get()}};
        kit::check(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, listener.get(), &ev), "epoll_ctl");
        // fd -> (the connection, bytes read but not yet echoed back)
        std::map<int, std::pair<kit::Fd, std::string>> conns;
        long closed = 0;

        while (closed < clients) {
            epoll_event events[64];
            int n = ::epoll_wait(ep.get(), events, 64, -1);
            if (n == -1 && errno == EINTR) continue;
            kit::check(n, "epoll_wait");
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == listener.get()) {
                    int c =
                        ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c == -1 && (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED))
                        continue;
                    kit::check(c, "accept4");
                    epoll_event cev{EPOLLIN, {.fd = c}};
                    kit::check(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, c, &cev), "epoll_ctl");
                    conns.emplace(c, std::pair{kit::Fd(c), std::string{}});
                    std::printf("fd %d: connected (%zu open)\n", c, conns.size());
                    continue;
                }
                auto& [sock, pending] = conns.at(fd);
                bool done = false;
                if (pending.empty()) {  // readable: take what is there, queue it to echo
                    char buf[4096];
                    ssize_t r = ::read(fd, buf, sizeof buf);
                    if (r == -1 && (errno == EAGAIN || errno == EINTR)) continue;
                    if (r <= 0)
                        done = true;  // EOF, or an error such as ECONNRESET
                    else
                        pending.assign(buf, static_cast<std::size_t>(r));
                }
                if (!pending.empty()) {  // a slow reader gets a partial write: keep the rest
                    ssize_t w = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
                    if (w > 0)
                        pending.erase(0, static_cast<std::size_t>(w));
                    else if (errno != EAGAIN && errno != EINTR)
                        done = true;
                    // While bytes are pending, wait for room instead of reading
                    // more: a client that never reads cannot make us buffer forever.
                    epoll_event mod{pending.empty() ? uint32_t{EPOLLIN} : uint32_t{EPOLLOUT},
                                    {.fd = fd}};
                    if (!done)
                        kit::check(::epoll_ctl(ep.get(), EPOLL_CTL_MOD, fd, &mod), "epoll_ctl");
                }
                if (done) {
                    conns.erase(fd);  // closing the fd also removes it from the epoll set
                    ++closed;
                    std::printf("fd %d: closed (%zu open)\n", fd, conns.size());
                }
            }
        }
        std::printf("served %ld connection(s)\n", closed);
        return 0;
    });
}
