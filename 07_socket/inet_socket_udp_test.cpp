// Tests of chapter 07 for UDP and datagrams (chapter07.*): boundaries, late
// errors, what a full receiver does, and the TCP programs across two network
// namespaces.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
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

// ---- UDP, and what "reliable" means ---------------------------------------

TEST(Udp, KeepsDatagramBoundaries) {
    kit::Fd rx = inet_socket(SOCK_DGRAM);
    auto addr = ch07::inet4("127.0.0.1", 0);
    ASSERT_EQ(::bind(rx.get(), sa(addr), sizeof addr), 0);
    addr.sin_port = htons(ch07::local_port(rx.get()));
    kit::Fd tx = inet_socket(SOCK_DGRAM);
    for (std::string_view m : {"hello", "world"})
        ASSERT_EQ(::sendto(tx.get(), m.data(), m.size(), 0, sa(addr), sizeof addr), 5);
    EXPECT_EQ(recv_once(rx.get()), "hello");
    EXPECT_EQ(recv_once(rx.get()), "world");
}

TEST(Udp, SendToAClosedPortSucceedsAndTheErrorArrivesLater) {
    auto r = run_program({program_path("udp_datagrams")});
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
    auto addr = ch07::inet4("127.0.0.1", 0);
    ASSERT_EQ(::bind(rx.get(), sa(addr), sizeof addr), 0);
    addr.sin_port = htons(ch07::local_port(rx.get()));
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
    const auto addr = ch07::unix_path(guard.name());
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
bool sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// The test's body, usable in this process or in a child: "" when the server
// and client talked, "skip: ..." when the machine does not allow it, else
// what went wrong.
std::string talk_across_a_veth_pair() {
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
        std::string bin = program_path("tcp_echo_server");
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
        std::string bin = program_path("tcp_echo_client"), port(buf, static_cast<std::size_t>(n));
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
        return std::string("skip: cannot create network namespaces and a veth pair here (") +
               (in_ns ? "ip link add veth failed" : "unshare(CLONE_NEWNET) failed") +
               ", host child " + st.describe() + ")";
    }
    const std::string first = read_line(server_out.read.get());
    if (first.empty()) {
        client_port.write.reset();  // the client child stops waiting for a port
        auto st = host.wait();
        (void)client.wait();
        if (st.exited_with(5)) return "skip: ip addr add / ip link set up failed in the namespace";
        return "server child " + st.describe();
    }
    if (first.rfind("listening on 10.7.0.1:", 0) != 0) return "server said: " + first;
    const std::string port = port_of(first);
    kit::write_all(client_port.write.get(), std::as_bytes(std::span(port)));
    const std::string echoed = read_rest(client_out.read.get());
    const auto client_st = client.wait(), host_st = host.wait();
    if (echoed != "echo: across hosts\nTCP_NODELAY=1\n") return "client printed: " + echoed;
    if (!client_st.ok()) return "client " + client_st.describe();
    if (!host_st.ok()) return "server " + host_st.describe();
    return "";
}

// Makes the calling child root of a new user namespace that also owns a new
// network namespace, so that it may create namespaces and veth devices and
// keep those rights across exec (uid 0 inside, mapped to its own uid).
bool become_root_of_a_user_namespace() {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1) return false;
    auto put = [](const std::string& file, const std::string& text) {
        kit::Fd f(kit::check(::open(file.c_str(), O_WRONLY | O_CLOEXEC), "open"));
        kit::write_all(f.get(), std::as_bytes(std::span(text)));
    };
    put("/proc/self/setgroups", "deny");
    put("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
    put("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    return true;
}

}  // namespace

TEST(CrossHost, ServerAndClientTalkAcrossAVethPair) {
    if (!sh("command -v ip >/dev/null 2>&1")) GTEST_SKIP() << "the ip command is not installed";
    std::string outcome;
    if (kit::has_capability(CAP_NET_ADMIN) && kit::has_capability(CAP_SYS_ADMIN)) {
        outcome = talk_across_a_veth_pair();
    } else {
        // An ordinary user: the same, inside a user namespace it owns.
        auto result = kit::make_pipe();
        auto outer = kit::spawn([&] {
            result.read.reset();
            const std::string r =
                become_root_of_a_user_namespace()
                    ? talk_across_a_veth_pair()
                    : std::string("skip: unshare(CLONE_NEWUSER | CLONE_NEWNET): ") +
                          strerrorname_np(errno);
            kit::write_all(result.write.get(), std::as_bytes(std::span(r)));
            return 0;
        });
        result.write.reset();
        outcome = read_rest(result.read.get());
        const auto st = outer.wait();
        if (!st.ok()) outcome += " (outer child " + st.describe() + ")";
    }
    if (outcome.rfind("skip: ", 0) == 0) GTEST_SKIP() << outcome.substr(6);
    EXPECT_EQ(outcome, "") << "the TCP programs did not talk across the veth pair";
}
