// bus_broker — a minimal message bus (消息总线): clients connect over
// SOCK_SEQPACKET, subscribers name a topic, publishers' messages are delivered
// to every subscriber of their topic. One process, one thread, poll().
//
// Run:    ./bus_broker [NAME [CLIENTS]]   (an abstract name; unique if omitted)
//         ./bus_subscribe NAME news &   ./bus_publish NAME news hello
// Prints: "broker on @NAME", then one line per subscription, publication and
//         departure. A subscriber that dies is dropped; the others are not
//         disturbed. A message of another version is refused and its sender
//         disconnected. It exits after CLIENTS clients have left (default:
//         never). SIGINT/SIGTERM stop it; the abstract name needs no
//         removal and vanishes with the socket, even after SIGKILL.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bus_message.hpp"
#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "socket_addr.hpp"

namespace {

volatile sig_atomic_t stop_signal = 0;
void on_stop(int sig) { stop_signal = sig; }

// A send that never blocks the broker and never kills it: a subscriber that
// is gone or not reading loses the message, the others do not wait for it.
bool send_message(int fd, const ch07::Message& m) {
    const std::string bytes = ch07::encode(m);
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
           static_cast<ssize_t>(bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[NAME [CLIENTS]]", [](auto args) {
        if (args.size() > 2) throw kit::unexpected(args[2]);
        const long limit = args.size() == 2 ? kit::parse_long(args[1], 1, 1000000) : -1;
        const std::string name = args.empty() ? kit::unique_name("bus") : std::string(args[0]);
        const auto addr = ch07::unix_abstract(name);
        sigset_t stops, unblocked;
        sigemptyset(&stops);
        sigaddset(&stops, SIGINT);
        sigaddset(&stops, SIGTERM);
        kit::check(::sigprocmask(SIG_BLOCK, &stops, &unblocked), "sigprocmask");
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        kit::check(::sigaction(SIGINT, &sa, nullptr), "sigaction");
        kit::check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");

        kit::Fd listener(kit::check(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::bind(listener.get(), addr.get(), addr.len), "bind");
        kit::check(::listen(listener.get(), 16), "listen");
        std::printf("broker on @%s\n", name.c_str());
        std::fflush(stdout);

        std::map<int, kit::Fd> clients;
        std::map<int, std::string> topic_of;  // subscribers only
        long left = 0;
        while (!stop_signal && (limit < 0 || left < limit)) {
            std::vector<pollfd> fds{{listener.get(), POLLIN, 0}};
            for (const auto& [fd, c] : clients) fds.push_back({fd, POLLIN, 0});
            int n = ::ppoll(fds.data(), fds.size(), nullptr, &unblocked);
            if (n == -1 && errno == EINTR) continue;
            kit::check(n, "ppoll");
            if (fds[0].revents & POLLIN) {
                int c = kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC),
                                   "accept4");
                clients.emplace(c, kit::Fd(c));
            }
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (fds[i].revents == 0) continue;
                const int fd = fds[i].fd;
                char buf[ch07::kMaxMessage + 1];  // one byte more: an oversized message shows
                ssize_t r = ::recv(fd, buf, sizeof buf, 0);
                std::string why = "left";
                auto m =
                    r > 0 ? ch07::decode({buf, static_cast<std::size_t>(r)}, &why) : std::nullopt;
                if (m && m->kind == 'S') {
                    topic_of[fd] = m->topic;
                    std::printf("client %d: subscribed to '%s'\n", fd, m->topic.c_str());
                    send_message(fd, {'A', m->topic, "subscribed"});
                } else if (m && m->kind == 'P') {
                    int delivered = 0;
                    for (const auto& [sub, topic] : topic_of)
                        if (topic == m->topic && send_message(sub, {'D', m->topic, m->body}))
                            ++delivered;
                    std::printf("publish on '%s' (%zu bytes) -> %d subscriber(s)\n",
                                m->topic.c_str(), m->body.size(), delivered);
                    send_message(fd, {'A', m->topic, std::to_string(delivered)});
                } else {  // EOF, an error, or a message this broker does not understand
                    if (r > 0 && m) why = "unexpected kind";
                    std::printf("client %d: %s%s\n", fd, r > 0 ? "refused: " : "", why.c_str());
                    topic_of.erase(fd);
                    clients.erase(fd);  // closes it
                    ++left;
                }
            }
            std::fflush(stdout);
        }
        if (stop_signal) std::printf("stopped by SIG%s, ", sigabbrev_np(stop_signal));
        std::printf("%ld client(s) came and left\n", left);
        return 0;
    });
}
