// Tests of chapter 07 for waiting on many sockets (chapter07.Epoll.*,
// chapter07.Select.*): level- and edge-triggered epoll, EPOLLONESHOT, and the
// FD_SETSIZE limit of select().
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit_test/program.hpp"
#include "socket_test_util.hpp"

using namespace ch07;

namespace {

struct Watched {
    SocketPair pair;
    kit::Fd ep;
};

// 10 bytes waiting at pair.b, which a new epoll set watches with `flags`.
Watched ten_bytes_watched(std::uint32_t flags) {
    Watched w{socket_pair(SOCK_STREAM | SOCK_NONBLOCK),
              kit::Fd(kit::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"))};
    epoll_event ev{EPOLLIN | flags, {.fd = w.pair.b.get()}};
    kit::check(::epoll_ctl(w.ep.get(), EPOLL_CTL_ADD, w.pair.b.get(), &ev), "epoll_ctl");
    kit::write_all(w.pair.a.get(), std::as_bytes(std::span("0123456789", 10)));
    return w;
}

int wait_events(int ep, int timeout_ms) {
    epoll_event ev[4];
    return kit::check(::epoll_wait(ep, ev, 4, timeout_ms), "epoll_wait");
}

int queued(int fd) {
    int n = -1;
    kit::check(::ioctl(fd, FIONREAD, &n), "ioctl");
    return n;
}

ssize_t read_some(int fd, std::size_t n) {
    char buf[64];
    return ::read(fd, buf, n);
}

}  // namespace

TEST(Epoll, LevelTriggeredReportsAgainWhileDataRemains) {
    auto w = ten_bytes_watched(0);
    EXPECT_EQ(wait_events(w.ep.get(), 0), 1);
    ASSERT_EQ(read_some(w.pair.b.get(), 4), 4);
    EXPECT_EQ(queued(w.pair.b.get()), 6);
    EXPECT_EQ(wait_events(w.ep.get(), 0), 1);  // still readable: reported again
}

TEST(Epoll, EdgeTriggeredReaderThatDoesNotDrainStallsWithDataWaiting) {
    auto w = ten_bytes_watched(EPOLLET);
    EXPECT_EQ(wait_events(w.ep.get(), 0), 1);
    ASSERT_EQ(read_some(w.pair.b.get(), 4), 4);  // not read until EAGAIN
    EXPECT_EQ(queued(w.pair.b.get()), 6);
    EXPECT_EQ(wait_events(w.ep.get(), 50), 0);  // no new edge: no event, 6 bytes wait
    EXPECT_EQ(queued(w.pair.b.get()), 6);
}

TEST(Epoll, EdgeTriggeredReaderThatDrainsUntilEagainIsWokenByTheNextData) {
    auto w = ten_bytes_watched(EPOLLET);
    EXPECT_EQ(wait_events(w.ep.get(), 0), 1);
    while (read_some(w.pair.b.get(), 4) > 0) {
    }
    EXPECT_EQ(errno, EAGAIN);  // drained: the rule for edge-triggered readers
    EXPECT_EQ(wait_events(w.ep.get(), 0), 0);
    ASSERT_TRUE(send_str(w.pair.a.get(), "more"));
    EXPECT_EQ(wait_events(w.ep.get(), 0), 1);  // a new arrival is a new edge
}

TEST(Epoll, OneshotReportsOnceUntilRearmedWithCtlMod) {
    auto w = ten_bytes_watched(EPOLLONESHOT);
    EXPECT_EQ(wait_events(w.ep.get(), 0), 1);
    EXPECT_EQ(wait_events(w.ep.get(), 0), 0);  // disabled, though 10 bytes wait
    ASSERT_TRUE(send_str(w.pair.a.get(), "more"));
    EXPECT_EQ(wait_events(w.ep.get(), 0), 0);  // not even new data wakes it
    epoll_event rearm{EPOLLIN | EPOLLONESHOT, {.fd = w.pair.b.get()}};
    ASSERT_EQ(::epoll_ctl(w.ep.get(), EPOLL_CTL_MOD, w.pair.b.get(), &rearm), 0);
    EXPECT_EQ(wait_events(w.ep.get(), 0), 1);
}

TEST(Select, AnFdAtOrAboveFdSetsizeHasNoBitInAnFdSetButPollAndEpollWatchIt) {
    static_assert(sizeof(fd_set) * CHAR_BIT == FD_SETSIZE);  // the bitmap ends at FD_SETSIZE
    rlimit rl{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max <= FD_SETSIZE + 10)
        GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << rl.rlim_max << " <= FD_SETSIZE";
    const rlimit saved = rl;
    rl.rlim_cur = std::max<rlim_t>(rl.rlim_cur, FD_SETSIZE + 10);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
    auto [a, b] = socket_pair(SOCK_STREAM);
    kit::Fd high(kit::check(::fcntl(b.get(), F_DUPFD_CLOEXEC, FD_SETSIZE), "fcntl"));
    EXPECT_GE(high.get(), FD_SETSIZE);  // FD_SET(high, &set) would write past the set
    ASSERT_TRUE(send_str(a.get(), "x"));
    pollfd p{high.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1);
    EXPECT_TRUE(p.revents & POLLIN);
    kit::Fd ep(kit::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
    epoll_event ev{EPOLLIN, {.fd = high.get()}};
    ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, high.get(), &ev), 0);
    EXPECT_EQ(wait_events(ep.get(), 0), 1);
    high.reset();
    ::setrlimit(RLIMIT_NOFILE, &saved);
}

TEST(Epoll, ProgramShowsTheEdgeTriggeredStall) {
    auto r = kit::test::run_program({kit::test::program_path("epoll_triggers")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(
        r.out.find("level-triggered: wait -> 1 event, read 4, wait -> 1 event (6 bytes left)"),
        std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("edge-triggered:  wait -> 1 event, read 4, wait(100 ms) -> 0 events (6 "
                         "bytes left: stalled)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(
        r.out.find(
            "EPOLLONESHOT:    wait -> 1 event, again -> 0 events, after EPOLL_CTL_MOD -> 1 event"),
        std::string::npos)
        << r.out;
}
