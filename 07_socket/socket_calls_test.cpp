// Tests of chapter 07 for the calls around the data (chapter07.*): many
// datagrams per call (sendmmsg/recvmmsg), the two ends' addresses
// (getsockname/getpeername), and half-closing a TCP connection (shutdown).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit_test/program.hpp"
#include "socket_addr.hpp"
#include "socket_test_util.hpp"

using namespace ch07;

// ---- sendmmsg / recvmmsg -----------------------------------------------------

TEST(Mmsg, SendmmsgSendsManyDatagramsInOneCallAndRecvmmsgReturnsAtMostVlen) {
    auto [tx, rx] = socket_pair(SOCK_DGRAM);
    std::vector<std::string> bodies{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg"};
    std::vector<iovec> iov(bodies.size());
    std::vector<mmsghdr> out(bodies.size());
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        iov[i] = {bodies[i].data(), bodies[i].size()};
        out[i].msg_hdr.msg_iov = &iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    ASSERT_EQ(::sendmmsg(tx.get(), out.data(), static_cast<unsigned>(out.size()), 0), 7);
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].msg_len, bodies[i].size());

    std::array<std::array<char, 16>, 4> bufs{};
    std::array<iovec, 4> in_iov{};
    std::array<mmsghdr, 4> in{};
    auto arm = [&] {
        for (std::size_t i = 0; i < 4; ++i) {
            in_iov[i] = {bufs[i].data(), bufs[i].size()};
            in[i] = {};
            in[i].msg_hdr.msg_iov = &in_iov[i];
            in[i].msg_hdr.msg_iovlen = 1;
        }
    };
    arm();
    ASSERT_EQ(::recvmmsg(rx.get(), in.data(), 4, MSG_DONTWAIT, nullptr), 4);  // vlen caps it
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(in[i].msg_len, i + 1);  // one length per datagram: boundaries kept
        EXPECT_EQ(std::string(bufs[i].data(), in[i].msg_len), bodies[i]);
    }
    arm();
    ASSERT_EQ(::recvmmsg(rx.get(), in.data(), 4, MSG_DONTWAIT, nullptr), 3);  // what was left
    EXPECT_EQ(std::string(bufs[2].data(), in[2].msg_len), "ggggggg");
    arm();
    errno = 0;
    EXPECT_EQ(::recvmmsg(rx.get(), in.data(), 4, MSG_DONTWAIT, nullptr), -1);
    EXPECT_EQ(errno, EAGAIN);
}

TEST(Mmsg, ProgramSendsEightInOneCallAndReceivesFiveThenThree) {
    auto r = kit::test::run_program({kit::test::program_path("sendmmsg_batch")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_EQ(r.out,
              "sendmmsg(8 messages) -> 8 sent in one call\n"
              "recvmmsg(room for 5) -> 5 messages, lengths 1 2 3 4 5\n"
              "recvmmsg(room for 5) -> 3 messages, lengths 6 7 8\n");
}

// ---- getsockname / getpeername -------------------------------------------------

TEST(SocketNames, TheServersGetpeernameIsTheClientsGetsockname) {
    Listener l = listen_loopback();
    kit::Fd c = connect_loopback(l.port);
    kit::Fd s = accept_tcp(l.fd.get());
    sockaddr_in client_self{}, server_peer{}, server_self{}, client_peer{};
    socklen_t len = sizeof client_self;
    ASSERT_EQ(::getsockname(c.get(), reinterpret_cast<sockaddr*>(&client_self), &len), 0);
    len = sizeof server_peer;
    ASSERT_EQ(::getpeername(s.get(), reinterpret_cast<sockaddr*>(&server_peer), &len), 0);
    EXPECT_EQ(server_peer.sin_port, client_self.sin_port);  // the client's ephemeral port
    EXPECT_EQ(server_peer.sin_addr.s_addr, client_self.sin_addr.s_addr);
    len = sizeof server_self;
    ASSERT_EQ(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&server_self), &len), 0);
    len = sizeof client_peer;
    ASSERT_EQ(::getpeername(c.get(), reinterpret_cast<sockaddr*>(&client_peer), &len), 0);
    EXPECT_EQ(ntohs(client_peer.sin_port), l.port);
    EXPECT_EQ(server_self.sin_port, client_peer.sin_port);
}

TEST(SocketNames, AUnixClientThatDidNotBindIsUnnamedToTheServer) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("names.sock"));
    const auto addr = ch07::unix_path(guard.name());
    auto listener = unix_socket();
    ASSERT_EQ(::bind(listener.get(), addr.get(), addr.len), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    auto c = unix_socket();
    ASSERT_EQ(::connect(c.get(), addr.get(), addr.len), 0);
    kit::Fd s = accept_one(listener.get());
    ASSERT_TRUE(s);
    sockaddr_un peer{};
    socklen_t len = sizeof peer;
    ASSERT_EQ(::getpeername(s.get(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
    EXPECT_EQ(len, sizeof(sa_family_t));  // family only: no path, no name
    sockaddr_un server{};
    len = sizeof server;
    ASSERT_EQ(::getpeername(c.get(), reinterpret_cast<sockaddr*>(&server), &len), 0);
    EXPECT_EQ(std::string(server.sun_path), guard.name());
}

TEST(SocketNames, GetpeernameOnAnUnconnectedSocketIsEnotconn) {
    auto s = unix_socket();
    sockaddr_un peer{};
    socklen_t len = sizeof peer;
    errno = 0;
    EXPECT_EQ(::getpeername(s.get(), reinterpret_cast<sockaddr*>(&peer), &len), -1);
    EXPECT_EQ(errno, ENOTCONN);
}

// ---- shutdown over TCP ----------------------------------------------------------

TEST(TcpStream, ShutdownWriteGivesThePeerEofWhileItCanStillSendBack) {
    Listener l = listen_loopback();
    kit::Fd c = connect_loopback(l.port, true);
    kit::Fd s = accept_tcp(l.fd.get());
    ASSERT_TRUE(send_str(c.get(), "request"));
    ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);  // FIN: "I have said everything"
    std::string got(16, '\0');
    EXPECT_EQ(kit::read_full(s.get(), std::as_writable_bytes(std::span(got))), 7u);  // then EOF
    ASSERT_TRUE(send_str(s.get(), "reply"));  // the other direction is still open
    EXPECT_EQ(recv_once(c.get()), "reply");
    errno = 0;
    EXPECT_EQ(::send(c.get(), "x", 1, MSG_NOSIGNAL), -1);  // but this side may not send
    EXPECT_EQ(errno, EPIPE);
}
