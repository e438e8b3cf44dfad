// epoll_triggers — level- vs edge-triggered epoll, EPOLLONESHOT, and the fd
// that select() cannot watch.
//
// Run:    ./epoll_triggers
// Prints: with 10 bytes waiting and a reader that takes only 4 per wakeup:
//         level-triggered epoll reports the socket again (6 bytes left);
//         edge-triggered reports it once, then epoll_wait times out with
//         0 events while 6 bytes still wait — the stall of a reader that does
//         not read until EAGAIN; EPOLLONESHOT reports once until EPOLL_CTL_MOD
//         re-arms it. Then a socket at fd >= FD_SETSIZE (1024), which has no
//         bit in an fd_set, is watched with poll() instead.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace {

// One epoll_wait with a short timeout: how many events it returned.
int events(int ep, int timeout_ms) {
    epoll_event ev[4];
    int n;
    while ((n = ::epoll_wait(ep, ev, 4, timeout_ms)) == -1 && errno == EINTR) {
    }
    return kit::check(n, "epoll_wait");
}

int queued(int fd) {
    int n = 0;
    kit::check(::ioctl(fd, FIONREAD, &n), "ioctl");
    return n;
}

// A socketpair with 10 bytes waiting at b, watched by a new epoll set.
struct Setup {
    kit::Fd a, b, ep;
};
Setup with_ten_bytes(std::uint32_t flags) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
               "socketpair");
    Setup s{kit::Fd(sv[0]), kit::Fd(sv[1]),
            kit::Fd(kit::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"))};
    epoll_event ev{EPOLLIN | flags, {.fd = s.b.get()}};
    kit::check(::epoll_ctl(s.ep.get(), EPOLL_CTL_ADD, s.b.get(), &ev), "epoll_ctl");
    kit::write_all(s.a.get(), std::as_bytes(std::span("0123456789", 10)));
    return s;
}

void read_four(int fd) {
    char buf[4];
    kit::check(::read(fd, buf, sizeof buf), "read");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        auto lt = with_ten_bytes(0);
        std::printf("level-triggered: wait -> %d event, ", events(lt.ep.get(), 0));
        read_four(lt.b.get());
        std::printf("read 4, wait -> %d event (%d bytes left)\n", events(lt.ep.get(), 0),
                    queued(lt.b.get()));

        auto et = with_ten_bytes(EPOLLET);
        std::printf("edge-triggered:  wait -> %d event, ", events(et.ep.get(), 0));
        read_four(et.b.get());
        std::printf("read 4, wait(100 ms) -> %d events (%d bytes left: stalled)\n",
                    events(et.ep.get(), 100), queued(et.b.get()));
        kit::write_all(et.a.get(), std::as_bytes(std::span("x", 1)));  // a new edge
        std::printf("edge-triggered:  1 more byte arrives, wait -> %d event\n",
                    events(et.ep.get(), 0));

        auto os = with_ten_bytes(EPOLLONESHOT);
        std::printf("EPOLLONESHOT:    wait -> %d event, ", events(os.ep.get(), 0));
        std::printf("again -> %d events, ", events(os.ep.get(), 0));
        epoll_event rearm{EPOLLIN | EPOLLONESHOT, {.fd = os.b.get()}};
        kit::check(::epoll_ctl(os.ep.get(), EPOLL_CTL_MOD, os.b.get(), &rearm), "epoll_ctl");
        std::printf("after EPOLL_CTL_MOD -> %d event\n", events(os.ep.get(), 0));

        // select() takes an fd_set: a bitmap of FD_SETSIZE bits, nothing beyond.
        rlimit rl{};
        kit::check(::getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
        if (rl.rlim_max <= FD_SETSIZE + 10) {
            std::printf("cannot show it here: RLIMIT_NOFILE hard limit %lu <= FD_SETSIZE\n",
                        static_cast<unsigned long>(rl.rlim_max));
            return 0;
        }
        rl.rlim_cur = FD_SETSIZE + 10;
        kit::check(::setrlimit(RLIMIT_NOFILE, &rl), "setrlimit");
        kit::Fd high(kit::check(::fcntl(lt.b.get(), F_DUPFD_CLOEXEC, FD_SETSIZE), "fcntl"));
        std::printf("fd %d >= FD_SETSIZE %d: an fd_set has %zu bits, no room for it\n", high.get(),
                    FD_SETSIZE, sizeof(fd_set) * 8);
        pollfd p{high.get(), POLLIN, 0};  // poll() takes an array: any fd number fits
        const int ready = kit::check(::poll(&p, 1, 0), "poll");
        std::printf("poll() on fd %d -> %d ready (%s)\n", high.get(), ready,
                    (p.revents & POLLIN) ? "POLLIN" : "-");
        return 0;
    });
}
