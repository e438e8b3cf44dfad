// Tests of chapter 07 for TCP (chapter07.*): the epoll echo server and its
// framing client, byte-stream behaviour, TCP_NODELAY, SO_REUSEADDR, SIGPIPE.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
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
using namespace std::chrono_literals;

// ---- the epoll echo server and the framing client ------------------------

TEST(TcpEcho, ClientProgramGetsEveryFrameBackWhole) {
    kit::test::Running server = start_program("tcp_echo_server");
    const std::string first = read_line(server.output.get());
    ASSERT_EQ(first.rfind("listening on 127.0.0.1:", 0), 0u) << first;
    const std::string big(100000, 'z');  // larger than one read() returns
    auto client = run_program(
        {program_path("tcp_echo_client"), "127.0.0.1", port_of(first), "hello", "two words", big});
    EXPECT_TRUE(client.status.ok()) << client.err;
    EXPECT_EQ(client.out, "echo: hello\necho: two words\necho: " + big + "\nTCP_NODELAY=1\n");
    const std::string rest = read_rest(server.output.get());
    EXPECT_TRUE(server.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("served 1 connection(s)"), std::string::npos) << rest;
}

TEST(TcpEcho, OneServerProcessServesTwoOpenClientsInAnyOrder) {
    kit::test::Running server = start_program("tcp_echo_server", {"127.0.0.1", "0", "2"});
    const std::string first = read_line(server.output.get());
    const auto port = static_cast<unsigned short>(std::stoi(port_of(first)));
    kit::Fd a = connect_loopback(port);
    kit::Fd b = connect_loopback(port);
    // A server that served one client at a time would still be busy with a.
    ASSERT_TRUE(send_str(b.get(), "to b"));
    EXPECT_EQ(recv_once(b.get()), "to b");
    ASSERT_TRUE(send_str(a.get(), "to a"));
    EXPECT_EQ(recv_once(a.get()), "to a");
    a.reset();
    b.reset();
    const std::string rest = read_rest(server.output.get());
    EXPECT_TRUE(server.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("(2 open)"), std::string::npos) << rest;
    EXPECT_NE(rest.find("served 2 connection(s)"), std::string::npos) << rest;
}

namespace {

// Bytes a process has taken in with read() so far ("rchar" in /proc/<pid>/io),
// or -1 where the kernel does not say.
long bytes_read_by(pid_t pid) {
    auto io = kit::read_text_file("/proc/" + std::to_string(pid) + "/io");
    const auto at = io ? io->find("rchar: ") : std::string::npos;
    return at == std::string::npos ? -1 : std::stol(io->substr(at + 7));
}

}  // namespace

TEST(TcpEcho, ClientReassemblesAFrameThatArrivesOneByteAtATime) {
    Listener l = listen_loopback();
    kit::test::Running client =
        start_program("tcp_echo_client", {"127.0.0.1", std::to_string(l.port), "hello"});
    kit::Fd c = accept_tcp(l.fd.get());
    int one = 1;
    ASSERT_EQ(::setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    std::array<char, 4 + 5> frame{};  // length prefix + "hello"
    ASSERT_EQ(kit::read_full(c.get(), std::as_writable_bytes(std::span(frame))), frame.size());
    // From here on the client reads only this socket. Each byte goes out only
    // after the client has read the one before, so every read() it makes returns
    // exactly one byte: a client that did not loop would print a cut frame.
    const pid_t pid = client.child.pid();
    const long before = bytes_read_by(pid);
    if (before < 0) GTEST_SKIP() << "/proc/<pid>/io is not available";
    for (std::size_t i = 0; i < frame.size(); ++i) {
        kit::write_all(c.get(), std::as_bytes(std::span(&frame[i], 1)));
        const long want = before + static_cast<long>(i) + 1;
        const auto end = std::chrono::steady_clock::now() + kit::kDeadline;
        while (bytes_read_by(pid) < want && std::chrono::steady_clock::now() < end) ::sched_yield();
        ASSERT_EQ(bytes_read_by(pid), want) << "byte " << i;
    }
    EXPECT_EQ(read_rest(client.output.get()), "echo: hello\nTCP_NODELAY=1\n");
    EXPECT_TRUE(client.child.wait().ok());
}

// ---- TCP is a byte stream --------------------------------------------------

TEST(TcpStream, TwoSendsCanArriveAsOneRecv) {
    Listener l = listen_loopback();
    kit::Fd c = connect_loopback(l.port, true);
    kit::Fd s = accept_tcp(l.fd.get());
    ASSERT_TRUE(send_str(c.get(), "hello"));
    ASSERT_TRUE(send_str(c.get(), "world"));
    ASSERT_TRUE(wait_queued(s.get(), 10));
    EXPECT_EQ(recv_once(s.get()), "helloworld");
}

TEST(TcpStream, ARecvReturnsWhatIsThereEvenMidMessage) {
    Listener l = listen_loopback();
    kit::Fd c = connect_loopback(l.port, true);
    kit::Fd s = accept_tcp(l.fd.get());
    ASSERT_TRUE(send_str(c.get(), "half a mes"));  // the sender's "message" is 20 bytes
    ASSERT_TRUE(wait_queued(s.get(), 10));
    EXPECT_EQ(recv_once(s.get(), 20), "half a mes");  // a short read: 10 of 20
}

// ---- Nagle and TCP_NODELAY -------------------------------------------------

TEST(TcpNodelay, IsOffByDefaultAndCanBeSet) {
    kit::Fd fd = inet_socket(SOCK_STREAM);
    int v = -1;
    socklen_t len = sizeof v;
    ASSERT_EQ(::getsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    EXPECT_EQ(v, 0);
    int one = 1;
    ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    ASSERT_EQ(::getsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    EXPECT_EQ(v, 1);
}

namespace {

// Bytes written but not yet sent: what Nagle holds back (SIOCOUTQNSD).
int unsent_after_two_small_writes(bool nodelay) {
    Listener l = listen_loopback();
    auto ready = kit::make_pipe();
    auto go = kit::make_pipe();
    auto server = kit::spawn([&] {
        kit::Fd c = accept_tcp(l.fd.get());
        int zero = 0;  // delay ACKs from the start, like a server mid-conversation
        kit::check(::setsockopt(c.get(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero),
                   "setsockopt");
        ready.write.reset();
        (void)kit::wait_readable(go.read.get());  // read nothing until the client has looked
        std::array<char, 8> req{};
        return kit::read_full(c.get(), std::as_writable_bytes(std::span(req))) == 8 ? 0 : 1;
    });
    ready.write.reset();
    kit::Fd c = connect_loopback(l.port, nodelay);
    (void)kit::wait_readable(ready.read.get());
    EXPECT_TRUE(send_str(c.get(), "HEAD"));
    EXPECT_TRUE(send_str(c.get(), "BODY"));
    int unsent = -1;
    kit::check(::ioctl(c.get(), SIOCOUTQNSD, &unsent), "ioctl");
    kit::write_all(go.write.get(), std::as_bytes(std::span("g", 1)));
    EXPECT_TRUE(server.wait().ok());
    return unsent;
}

}  // namespace

TEST(TcpNodelay, NagleHoldsASmallWriteWhileAnEarlierOneIsUnacknowledged) {
    // The server delays its ACK by at least 40 ms. Only if this process were
    // descheduled for longer than that between the two writes could HEAD's
    // ACK arrive first; such an attempt shows nothing, so it is repeated.
    int unsent = 0;
    for (int attempt = 0; attempt < 3 && unsent != 4; ++attempt)
        unsent = unsent_after_two_small_writes(false);
    EXPECT_EQ(unsent, 4);  // "BODY" waits for HEAD's ACK
}

TEST(TcpNodelay, WithNodelayTheSmallWriteIsSentAtOnce) {
    EXPECT_EQ(unsent_after_two_small_writes(true), 0);
}

// ---- SO_REUSEADDR ----------------------------------------------------------

namespace {

// A server on a free port that closes its connection first (leaving that
// connection in TIME_WAIT) and then exits. Returns the port.
unsigned short port_with_a_closed_connection(bool server_reuse) {
    Listener l = listen_loopback(server_reuse);
    kit::Fd c = connect_loopback(l.port);
    kit::Fd s = accept_tcp(l.fd.get());
    s.reset();                          // active close
    EXPECT_EQ(recv_once(c.get()), "");  // the server's FIN arrived
    return l.port;
}

int bind_errno(unsigned short port, bool reuse) {
    kit::Fd fd = inet_socket(SOCK_STREAM, reuse);
    const auto addr = ch07::inet4("127.0.0.1", port);
    return ::bind(fd.get(), sa(addr), sizeof addr) == 0 ? 0 : errno;
}

}  // namespace

TEST(ReuseAddr, RestartWithoutItFailsWithEaddrinuse) {
    EXPECT_EQ(bind_errno(port_with_a_closed_connection(true), false), EADDRINUSE);
}

TEST(ReuseAddr, RestartWithItSucceeds) {
    EXPECT_EQ(bind_errno(port_with_a_closed_connection(true), true), 0);
}

TEST(ReuseAddr, OnlyHelpsIfTheOldServerHadItSetToo) {
    // The TIME_WAIT entry keeps the old socket's setting: both sides must agree.
    EXPECT_EQ(bind_errno(port_with_a_closed_connection(false), true), EADDRINUSE);
}

TEST(ReuseAddr, DoesNotLetTwoListenersShareAPort) {
    Listener l = listen_loopback(true);
    EXPECT_EQ(bind_errno(l.port, true), EADDRINUSE);
}

TEST(ReuseAddr, ProgramShowsBothRestarts) {
    auto r = run_program({program_path("tcp_reuseaddr")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("SO_REUSEADDR=0: bind() -> EADDRINUSE\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SO_REUSEADDR=1: bind() -> ok\n"), std::string::npos) << r.out;
}

TEST(EphemeralPort, BindingPortZeroPicksDistinctFreePorts) {
    Listener a = listen_loopback();
    Listener b = listen_loopback();
    EXPECT_NE(a.port, 0);
    EXPECT_NE(b.port, 0);
    EXPECT_NE(a.port, b.port);
}

// ---- SIGPIPE over TCP ------------------------------------------------------

TEST(TcpSigpipe, FirstWriteAfterPeerCloseSucceedsTheNextIsEpipe) {
    Listener l = listen_loopback();
    kit::Fd c = connect_loopback(l.port);
    kit::Fd s = accept_tcp(l.fd.get());
    s.reset();
    ASSERT_EQ(recv_once(c.get()), "");    // FIN: the peer will send no more
    ASSERT_TRUE(send_str(c.get(), "x"));  // still accepted: TCP cannot know the peer is gone
    // The peer answers with RST; poll() reports it as POLLHUP/POLLERR.
    ASSERT_NE(kit::wait_for_events(c.get(), POLLOUT) & (POLLERR | POLLHUP), 0);
    auto child = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        errno = 0;
        return ::send(c.get(), "y", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE ? 0 : 1;
    });
    EXPECT_TRUE(child.wait().ok());
}

// ---- the order of the calls -------------------------------------------------

TEST(TcpSequence, ConnectBeforeListenIsEconnrefusedAfterListenItIsAccepted) {
    kit::Fd server = inet_socket(SOCK_STREAM, true);
    auto addr = ch07::inet4("127.0.0.1", 0);
    ASSERT_EQ(::bind(server.get(), sa(addr), sizeof addr), 0);
    addr.sin_port = htons(local_port(server.get()));
    kit::Fd early = inet_socket(SOCK_STREAM);
    errno = 0;
    EXPECT_EQ(::connect(early.get(), sa(addr), sizeof addr), -1);  // bound, not yet listening
    EXPECT_EQ(errno, ECONNREFUSED);
    ASSERT_EQ(::listen(server.get(), 1), 0);
    kit::Fd client = inet_socket(SOCK_STREAM);
    ASSERT_EQ(::connect(client.get(), sa(addr), sizeof addr), 0);
    kit::Fd conn = accept_tcp(server.get());
    ASSERT_TRUE(send_str(client.get(), "Hello from client"));
    std::string got(17, '\0');
    EXPECT_EQ(kit::read_full(conn.get(), std::as_writable_bytes(std::span(got))), 17u);
    EXPECT_EQ(got, "Hello from client");
}
