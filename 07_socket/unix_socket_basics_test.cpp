// Tests of chapter 07 for Unix-domain sockets, part 1 (chapter07.*): socketpair
// in both directions and the message boundaries of each socket type.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "socket_addr.hpp"
#include "socket_test_util.hpp"

using namespace ch07;
using kit::test::program_path;
using kit::test::run_program;

// ---- socketpair: one descriptor, both directions -------------------------

TEST(SocketPairDuplex, BothProcessesSendFirstThenReadOnTheSameDescriptor) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        mine.reset();
        kit::write_all(theirs.get(), std::as_bytes(std::span("from child", 10)));
        return recv_once(theirs.get()) == "from parent" ? 0 : 1;
    });
    theirs.reset();
    ASSERT_TRUE(send_str(mine.get(), "from parent"));  // both directions are in flight now
    EXPECT_EQ(recv_once(mine.get()), "from child");
    EXPECT_TRUE(child.wait().ok());
}

TEST(SocketPairDuplex, EachEndOfAPipeHasOnlyOneDirection) {
    auto p = kit::make_pipe();
    errno = 0;
    EXPECT_EQ(::write(p.read.get(), "x", 1), -1);
    EXPECT_EQ(errno, EBADF);
    char c;
    errno = 0;
    EXPECT_EQ(::read(p.write.get(), &c, 1), -1);
    EXPECT_EQ(errno, EBADF);
}

TEST(SocketPairDuplex, ShutdownWriteGivesThePeerEofButKeepsTheOtherDirection) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    ASSERT_EQ(::shutdown(a.get(), SHUT_WR), 0);
    EXPECT_EQ(recv_once(b.get()), "");  // EOF: read returned 0
    ASSERT_TRUE(send_str(b.get(), "still open"));
    EXPECT_EQ(recv_once(a.get()), "still open");
}

// ---- message boundaries ---------------------------------------------------

TEST(MessageBoundaries, StreamMergesTwoSendsIntoOneRecv) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    ASSERT_TRUE(send_str(a.get(), "hello"));
    ASSERT_TRUE(send_str(a.get(), "world"));
    EXPECT_EQ(recv_once(b.get()), "helloworld");
}

TEST(MessageBoundaries, SeqpacketReturnsOneSendPerRecv) {
    auto [a, b] = socket_pair(SOCK_SEQPACKET);
    ASSERT_TRUE(send_str(a.get(), "hello"));
    ASSERT_TRUE(send_str(a.get(), "world"));
    EXPECT_EQ(recv_once(b.get()), "hello");
    EXPECT_EQ(recv_once(b.get()), "world");
}

TEST(MessageBoundaries, DgramReturnsOneSendPerRecv) {
    auto [a, b] = socket_pair(SOCK_DGRAM);
    ASSERT_TRUE(send_str(a.get(), "hello"));
    ASSERT_TRUE(send_str(a.get(), "world"));
    EXPECT_EQ(recv_once(b.get()), "hello");
    EXPECT_EQ(recv_once(b.get()), "world");
}

TEST(MessageBoundaries, TooSmallBufferTruncatesADatagramAndDiscardsTheRest) {
    auto [a, b] = socket_pair(SOCK_DGRAM);
    ASSERT_TRUE(send_str(a.get(), "hello"));
    ASSERT_TRUE(send_str(a.get(), "world"));
    char buf[3];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ASSERT_EQ(::recvmsg(b.get(), &msg, 0), 3);
    EXPECT_EQ(std::string(buf, 3), "hel");
    EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
    EXPECT_EQ(recv_once(b.get()), "world");  // "lo" is gone
}

TEST(MessageBoundaries, StreamKeepsTheRestForTheNextRead) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    ASSERT_TRUE(send_str(a.get(), "hello"));
    EXPECT_EQ(recv_once(b.get(), 3), "hel");
    EXPECT_EQ(recv_once(b.get(), 3), "lo");
}

TEST(MessageBoundaries, ADatagramLargerThanTheSendBufferIsEmsgsize) {
    auto [a, b] = socket_pair(SOCK_DGRAM);
    int sndbuf = 0;
    socklen_t len = sizeof sndbuf;
    ASSERT_EQ(::getsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), 0);
    std::string big(static_cast<std::size_t>(sndbuf) + 1, 'x');
    errno = 0;
    EXPECT_EQ(::send(a.get(), big.data(), big.size(), 0), -1);
    EXPECT_EQ(errno, EMSGSIZE);
}

TEST(MessageBoundaries, AStreamCarriesMoreThanItsBuffersInOneWrite) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    int sndbuf = 0;
    socklen_t len = sizeof sndbuf;
    ASSERT_EQ(::getsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), 0);
    const std::string big(4 * static_cast<std::size_t>(sndbuf), 'x');
    auto reader = kit::spawn([&] {
        a.reset();
        std::string got(big.size() + 1, '\0');
        return kit::read_full(b.get(), std::as_writable_bytes(std::span(got))) == big.size() ? 0
                                                                                             : 1;
    });
    b.reset();
    kit::write_all(a.get(), std::as_bytes(std::span(big)));  // blocks until the reader makes room
    a.reset();
    EXPECT_TRUE(reader.wait().ok());
}

TEST(SocketPairDuplex, OnlyUnixDomainHasSocketpair) {
    int sv[2];
    errno = 0;
    EXPECT_EQ(::socketpair(AF_INET, SOCK_STREAM, 0, sv), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
}
