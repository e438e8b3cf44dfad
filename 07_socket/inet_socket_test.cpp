// Tests of chapter 07 for TCP and UDP (chapter07.*): the epoll echo server and
// its framing client, byte-stream behaviour, TCP_NODELAY, SO_REUSEADDR, UDP,
// and the same programs across two network namespaces.
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
#include "kit_test/program.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "socket_addr.hpp"
#include "socket_test_util.hpp"

using socktest::Background;
using namespace std::chrono_literals;

namespace {

std::string prog(const char* name) {
    return std::string(KIT_BIN_DIR) + "/" + name;
}

const sockaddr* sa(const sockaddr_in& a) {
    return reinterpret_cast<const sockaddr*>(&a);
}

kit::Fd inet_socket(int type, bool reuse = false) {
    kit::Fd fd(kit::check(::socket(AF_INET, type | SOCK_CLOEXEC, 0), "socket"));
    int on = reuse ? 1 : 0;
    kit::check(::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), "setsockopt");
    return fd;
}

// A TCP listener on 127.0.0.1 and a port the kernel picked.
struct Listener {
    kit::Fd fd;
    unsigned short port;
};

Listener listen_loopback(bool reuse = false) {
    kit::Fd fd = inet_socket(SOCK_STREAM, reuse);
    const auto addr = sock::inet4("127.0.0.1", 0);
    kit::check(::bind(fd.get(), sa(addr), sizeof addr), "bind");
    kit::check(::listen(fd.get(), 16), "listen");
    const unsigned short port = sock::local_port(fd.get());
    return {std::move(fd), port};
}

kit::Fd connect_loopback(unsigned short port, bool nodelay = false) {
    kit::Fd fd = inet_socket(SOCK_STREAM);
    int on = nodelay ? 1 : 0;
    kit::check(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on), "setsockopt");
    const auto addr = sock::inet4("127.0.0.1", port);
    kit::check(::connect(fd.get(), sa(addr), sizeof addr), "connect");
    return fd;
}

kit::Fd accept_one(int listener) {
    if (!kit::wait_readable(listener)) throw kit::SysError(ETIMEDOUT, "accept");
    return kit::Fd(kit::check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
}

void send_str(int fd, std::string_view s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

std::string recv_once(int fd, std::size_t size = 64) {
    if (!kit::wait_readable(fd)) return "<timeout>";
    std::string buf(size, '\0');
    // MSG_DONTWAIT: what is there now, never a wait that the deadline does not bound.
    ssize_t n = ::recv(fd, buf.data(), size, MSG_DONTWAIT);
    return n < 0 ? "<error " + std::to_string(errno) + ">"
                 : buf.substr(0, static_cast<std::size_t>(n));
}

// Waits (bounded) until `bytes` bytes sit unread in fd's receive queue, so
// that what one recv() returns no longer depends on timing.
bool wait_queued(int fd, int bytes) {
    const auto end = std::chrono::steady_clock::now() + kit::kDeadline;
    for (;;) {
        int queued = 0;
        kit::check(::ioctl(fd, FIONREAD, &queued), "ioctl");
        if (queued >= bytes) return true;
        if (std::chrono::steady_clock::now() > end) return false;
        (void)kit::wait_readable(fd, 10ms);
    }
}

// "listening on ADDR:PORT" -> PORT
std::string port_of(const std::string& line) {
    return line.substr(line.rfind(':') + 1);
}

}  // namespace

// ---- the epoll echo server and the framing client ------------------------

TEST(TcpEcho, ClientProgramGetsEveryFrameBackWhole) {
    Background server = socktest::start({prog("tcp_echo_server")});
    const std::string first = socktest::read_line(server.out.get());
    ASSERT_EQ(first.rfind("listening on 127.0.0.1:", 0), 0u) << first;
    const std::string big(100000, 'z');  // larger than one read() returns
    auto client = kit::test::run_program(
        {prog("tcp_echo_client"), "127.0.0.1", port_of(first), "hello", "two words", big});
    EXPECT_TRUE(client.status.ok()) << client.err;
    EXPECT_EQ(client.out, "echo: hello\necho: two words\necho: " + big + "\nTCP_NODELAY=1\n");
    const std::string rest = socktest::read_rest(server.out.get());
    EXPECT_TRUE(server.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("served 1 connection(s)"), std::string::npos) << rest;
}

TEST(TcpEcho, OneServerProcessServesTwoOpenClientsInAnyOrder) {
    Background server = socktest::start({prog("tcp_echo_server"), "127.0.0.1", "0", "2"});
    const std::string first = socktest::read_line(server.out.get());
    const auto port = static_cast<unsigned short>(std::stoi(port_of(first)));
    kit::Fd a = connect_loopback(port);
    kit::Fd b = connect_loopback(port);
    // A server that served one client at a time would still be busy with a.
    send_str(b.get(), "to b");
    EXPECT_EQ(recv_once(b.get()), "to b");
    send_str(a.get(), "to a");
    EXPECT_EQ(recv_once(a.get()), "to a");
    a.reset();
    b.reset();
    const std::string rest = socktest::read_rest(server.out.get());
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
    Background client =
        socktest::start({prog("tcp_echo_client"), "127.0.0.1", std::to_string(l.port), "hello"});
    kit::Fd c = accept_one(l.fd.get());
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
    EXPECT_EQ(socktest::read_rest(client.out.get()), "echo: hello\nTCP_NODELAY=1\n");
    EXPECT_TRUE(client.child.wait().ok());
}

// ---- TCP is a byte stream --------------------------------------------------

TEST(TcpStream, TwoSendsCanArriveAsOneRecv) {
    Listener l = listen_loopback();
    kit::Fd c = connect_loopback(l.port, true);
    kit::Fd s = accept_one(l.fd.get());
    send_str(c.get(), "hello");
    send_str(c.get(), "world");
    ASSERT_TRUE(wait_queued(s.get(), 10));
    EXPECT_EQ(recv_once(s.get()), "helloworld");
}

TEST(TcpStream, ARecvReturnsWhatIsThereEvenMidMessage) {
    Listener l = listen_loopback();
    kit::Fd c = connect_loopback(l.port, true);
    kit::Fd s = accept_one(l.fd.get());
    send_str(c.get(), "half a mes");  // the sender's "message" is 20 bytes
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
        kit::Fd c = accept_one(l.fd.get());
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
    send_str(c.get(), "HEAD");
    send_str(c.get(), "BODY");
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
    kit::Fd s = accept_one(l.fd.get());
    s.reset();                          // active close
    EXPECT_EQ(recv_once(c.get()), "");  // the server's FIN arrived
    return l.port;
}

int bind_errno(unsigned short port, bool reuse) {
    kit::Fd fd = inet_socket(SOCK_STREAM, reuse);
    const auto addr = sock::inet4("127.0.0.1", port);
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
    auto r = kit::test::run_program({prog("tcp_reuseaddr")});
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
    kit::Fd s = accept_one(l.fd.get());
    s.reset();
    ASSERT_EQ(recv_once(c.get()), "");  // FIN: the peer will send no more
    send_str(c.get(), "x");             // still accepted: TCP cannot know the peer is gone
    // The peer answers with RST; poll() reports it as POLLHUP/POLLERR.
    ASSERT_NE(kit::wait_for_events(c.get(), POLLOUT) & (POLLERR | POLLHUP), 0);
    auto child = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        errno = 0;
        return ::send(c.get(), "y", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE ? 0 : 1;
    });
    EXPECT_TRUE(child.wait().ok());
}

// ---- UDP, and what "reliable" means ---------------------------------------

TEST(Udp, KeepsDatagramBoundaries) {
    kit::Fd rx = inet_socket(SOCK_DGRAM);
    auto addr = sock::inet4("127.0.0.1", 0);
    ASSERT_EQ(::bind(rx.get(), sa(addr), sizeof addr), 0);
    addr.sin_port = htons(sock::local_port(rx.get()));
    kit::Fd tx = inet_socket(SOCK_DGRAM);
    for (std::string_view m : {"hello", "world"})
        ASSERT_EQ(::sendto(tx.get(), m.data(), m.size(), 0, sa(addr), sizeof addr), 5);
    EXPECT_EQ(recv_once(rx.get()), "hello");
    EXPECT_EQ(recv_once(rx.get()), "world");
}

TEST(Udp, SendToAClosedPortSucceedsAndTheErrorArrivesLater) {
    auto r = kit::test::run_program({prog("udp_datagrams")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("-> 7 (success)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("next recv() -> -1, errno ECONNREFUSED"), std::string::npos) << r.out;
}

namespace {

long socket_drops(int fd) {
    std::array<std::uint32_t, SK_MEMINFO_VARS> info{};
    socklen_t len = sizeof info;
    kit::check(::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info.data(), &len), "getsockopt");
    return info[SK_MEMINFO_DROPS];
}

}  // namespace

TEST(DatagramOverflow, UdpSendSucceedsButAFullReceiverDropsTheDatagram) {
    kit::Fd rx = inet_socket(SOCK_DGRAM);
    int small = 4096;
    ASSERT_EQ(::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    auto addr = sock::inet4("127.0.0.1", 0);
    ASSERT_EQ(::bind(rx.get(), sa(addr), sizeof addr), 0);
    addr.sin_port = htons(sock::local_port(rx.get()));
    kit::Fd tx = inet_socket(SOCK_DGRAM);
    std::array<char, 1000> payload{};
    for (int i = 0; i < 50; ++i)
        ASSERT_EQ(
            ::sendto(tx.get(), payload.data(), payload.size(), MSG_DONTWAIT, sa(addr), sizeof addr),
            1000);
    long received = 0;
    const auto end = std::chrono::steady_clock::now() + kit::kDeadline;
    while (received + socket_drops(rx.get()) < 50 && std::chrono::steady_clock::now() < end) {
        if (kit::wait_readable(rx.get(), 50ms))
            while (::recv(rx.get(), payload.data(), payload.size(), MSG_DONTWAIT) > 0) ++received;
    }
    EXPECT_EQ(received + socket_drops(rx.get()), 50);
    EXPECT_GT(socket_drops(rx.get()), 0);
    EXPECT_LT(received, 50);
}

TEST(DatagramOverflow, UnixDgramNeverDropsTheSenderWaitsInstead) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    kit::Fd tx(sv[0]), rx(sv[1]);
    int sent = 0;
    for (;; ++sent) {
        ssize_t n = ::send(tx.get(), &sent, sizeof sent, MSG_DONTWAIT);
        if (n == -1) {
            ASSERT_EQ(errno, EAGAIN);  // full: the sender is told, nothing is lost
            break;
        }
        ASSERT_LT(sent, 100000);
    }
    ASSERT_GT(sent, 0);
    for (int i = 0; i < sent; ++i) {  // every datagram, in order
        int v = -1;
        ASSERT_EQ(::recv(rx.get(), &v, sizeof v, MSG_DONTWAIT), static_cast<ssize_t>(sizeof v));
        EXPECT_EQ(v, i);
    }
    EXPECT_EQ(socket_drops(rx.get()), 0);
    int extra;
    EXPECT_EQ(::recv(rx.get(), &extra, sizeof extra, MSG_DONTWAIT), -1);
}

TEST(DatagramOverflow, UnixDgramBlockingSenderResumesWhenTheReceiverReads) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    kit::Fd tx(sv[0]), rx(sv[1]);
    while (::send(tx.get(), "m", 1, MSG_DONTWAIT) == 1) {
    }
    auto child = kit::spawn([&] {
        alarm(5);
        return ::send(tx.get(), "last", 4, 0) == 4 ? 0 : 1;  // blocks: the queue is full
    });
    // The child is asleep inside send() (glibc's send is the sendto system call).
    ASSERT_TRUE(kit::wait_in_syscall(child.pid(), SYS_sendto)) << child.wait().describe();
    EXPECT_FALSE(kit::wait_writable(tx.get(), 0ms));  // no room for the child yet
    char buf[8];
    ssize_t n;
    std::string last;
    while (kit::wait_readable(rx.get(), 1s) && (n = ::recv(rx.get(), buf, sizeof buf, 0)) > 0) {
        last.assign(buf, static_cast<std::size_t>(n));
        if (last == "last") break;
    }
    EXPECT_EQ(last, "last");
    EXPECT_TRUE(child.wait().ok());
}

namespace {

kit::Fd nonblocking_unix_dgram_pair(kit::Fd& rx) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), "socketpair");
    rx = kit::Fd(sv[1]);
    return kit::Fd(sv[0]);
}

// How many datagrams of `size` bytes a non-blocking sender gets in before EAGAIN.
int datagrams_until_eagain(int tx, std::size_t size) {
    const std::string payload(size, 'd');
    for (int n = 0; n < 100000; ++n)
        if (::send(tx, payload.data(), payload.size(), MSG_DONTWAIT) == -1)
            return errno == EAGAIN ? n : -errno;
    return -1;
}

void set_buffer(int fd, int option, int bytes) {
    kit::check(::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes), "setsockopt");
}

}  // namespace

TEST(DatagramOverflow, UnixDgramUnreadDatagramsCountAgainstTheSendersBufferNotTheReceivers) {
    kit::Fd rx1, rx2, rx3;
    kit::Fd tx1 = nonblocking_unix_dgram_pair(rx1);
    const int by_default = datagrams_until_eagain(tx1.get(), 1000);
    ASSERT_GT(by_default, 0);
    kit::Fd tx2 = nonblocking_unix_dgram_pair(rx2);
    set_buffer(rx2.get(), SO_RCVBUF, 16 * 1024);  // AF_UNIX ignores the receiver's SO_RCVBUF
    EXPECT_EQ(datagrams_until_eagain(tx2.get(), 1000), by_default);
    kit::Fd tx3 = nonblocking_unix_dgram_pair(rx3);
    set_buffer(tx3.get(), SO_SNDBUF, 16 * 1024);  // unread datagrams are charged to the sender
    const int small_sndbuf = datagrams_until_eagain(tx3.get(), 1000);
    EXPECT_GT(small_sndbuf, 0);
    EXPECT_LT(small_sndbuf, by_default);
}

TEST(DatagramOverflow, UnixDgramANamedReceiverQueuesAtMostMaxDgramQlen) {
    const auto qlen = kit::read_long_file("/proc/sys/net/unix/max_dgram_qlen");
    if (!qlen) GTEST_SKIP() << "/proc/sys/net/unix/max_dgram_qlen is not readable";
    kit::Fd pair_rx;
    kit::Fd pair_tx = nonblocking_unix_dgram_pair(pair_rx);
    const int sndbuf_limit = datagrams_until_eagain(pair_tx.get(), 1);  // no queue limit here
    if (*qlen + 1 >= sndbuf_limit)
        GTEST_SKIP() << "max_dgram_qlen=" << *qlen << " is more than the send buffer holds ("
                     << sndbuf_limit << " datagrams)";

    auto guard = kit::unlink_guard(kit::unique_temp_path("dgram.sock"));
    const auto addr = sock::unix_path(guard.name());
    kit::Fd rx(kit::check(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
    ASSERT_EQ(::bind(rx.get(), addr.get(), addr.len), 0);
    kit::Fd tx(kit::check(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
    ASSERT_EQ(::connect(tx.get(), addr.get(), addr.len), 0);
    // The sender is refused once the queue is LONGER than the limit: qlen + 1 fit.
    EXPECT_EQ(datagrams_until_eagain(tx.get(), 1), *qlen + 1);
}

// ---- across hosts: two network namespaces joined by a veth pair ------------

namespace {

// Runs `cmd` through the shell; true if it exited 0.
bool sh(const std::string& cmd) {
    return std::system(cmd.c_str()) == 0;
}

}  // namespace

TEST(CrossHost, ServerAndClientTalkAcrossAVethPair) {
    if (!sh("command -v ip >/dev/null 2>&1")) GTEST_SKIP() << "the ip command is not installed";
    // Each "host" is a child in its own network namespace; both vanish, with
    // their interfaces, when the children exit.
    // Signalled with bytes, not EOF: every child inherits every pipe's write end.
    auto ready = kit::make_pipe();  // each child writes one byte once in its namespace
    auto wired = kit::make_pipe();  // the parent writes one byte per child once the veth exists
    auto server_out = kit::make_pipe();
    auto host = kit::spawn([&] {
        char b = ::unshare(CLONE_NEWNET) == 0 ? 'h' : 'F';
        kit::check(::write(ready.write.get(), &b, 1), "write");
        if (b == 'F') return 3;
        if (::read(wired.read.get(), &b, 1) != 1 || b != 'y') return 4;
        if (!sh("ip addr add 10.7.0.1/24 dev veth-srv && ip link set veth-srv up")) return 5;
        kit::check(::dup2(server_out.write.get(), STDOUT_FILENO), "dup2");
        std::string bin = prog("tcp_echo_server");
        ::execl(bin.c_str(), bin.c_str(), "10.7.0.1", "0", "1", nullptr);
        return 127;
    });
    auto client_port = kit::make_pipe();
    auto client_out = kit::make_pipe();
    auto client = kit::spawn([&] {
        server_out.write.reset();   // so that the server's output ends when the server does
        client_port.write.reset();  // so that a parent giving up means EOF here
        char b = ::unshare(CLONE_NEWNET) == 0 ? 'c' : 'F';
        kit::check(::write(ready.write.get(), &b, 1), "write");
        if (b == 'F') return 3;
        if (::read(wired.read.get(), &b, 1) != 1 || b != 'y') return 4;
        if (!sh("ip addr add 10.7.0.2/24 dev veth-cli && ip link set veth-cli up")) return 5;
        if (!kit::wait_readable(client_port.read.get())) return 6;
        char buf[16];
        ssize_t n = ::read(client_port.read.get(), buf, sizeof buf);
        if (n <= 0) return 7;
        kit::check(::dup2(client_out.write.get(), STDOUT_FILENO), "dup2");
        std::string bin = prog("tcp_echo_client"), port(buf, static_cast<std::size_t>(n));
        ::execl(bin.c_str(), bin.c_str(), "10.7.0.1", port.c_str(), "across hosts", nullptr);
        return 127;
    });
    server_out.write.reset();
    client_out.write.reset();
    // Each child reports one byte: in its namespace, or 'F' for failed.
    std::string reports;
    char b;
    while (reports.size() < 2 && kit::wait_readable(ready.read.get()) &&
           ::read(ready.read.get(), &b, 1) == 1)
        reports += b;
    const bool in_ns = reports.size() == 2 && reports.find('F') == std::string::npos;
    const bool linked = in_ns && sh("ip link add veth-srv netns " + std::to_string(host.pid()) +
                                    " type veth peer name veth-cli netns " +
                                    std::to_string(client.pid()) + " 2>/dev/null");
    const char go[2] = {linked ? 'y' : 'n', linked ? 'y' : 'n'};
    kit::write_all(wired.write.get(), std::as_bytes(std::span(go)));
    if (!linked) {
        auto st = host.wait();
        (void)client.wait();
        GTEST_SKIP() << "cannot create network namespaces and a veth pair here ("
                     << (in_ns ? "ip link add veth failed" : "unshare(CLONE_NEWNET) failed")
                     << ", host child " << st.describe() << ")";
    }
    const std::string first = socktest::read_line(server_out.read.get());
    if (first.empty()) {
        client_port.write.reset();  // the client child stops waiting for a port
        auto st = host.wait();
        (void)client.wait();
        if (st.exited_with(5))
            GTEST_SKIP() << "ip addr add / ip link set up failed in the namespace";
        FAIL() << "server child " << st.describe();
    }
    ASSERT_EQ(first.rfind("listening on 10.7.0.1:", 0), 0u) << first;
    const std::string port = port_of(first);
    ASSERT_EQ(::write(client_port.write.get(), port.data(), port.size()),
              static_cast<ssize_t>(port.size()));
    EXPECT_EQ(socktest::read_rest(client_out.read.get()), "echo: across hosts\nTCP_NODELAY=1\n");
    EXPECT_TRUE(client.wait().ok());
    EXPECT_TRUE(host.wait().ok());
}
