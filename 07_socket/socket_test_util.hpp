// socket_test_util.hpp — what this chapter's tests share: sockets made and
// read with bounds, SCM_RIGHTS send/receive, a program started in the
// background (its ready line read with a deadline), and a way into a fresh
// network namespace. Programs are found with kit::test::program_path.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "socket_addr.hpp"

namespace ch07 {

// ---- sockets ---------------------------------------------------------------

struct SocketPair {
    kit::Fd a, b;
};

[[nodiscard]] inline SocketPair socket_pair(int type) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), "socketpair");
    return {kit::Fd(sv[0]), kit::Fd(sv[1])};
}

[[nodiscard]] inline kit::Fd unix_socket(int type = SOCK_STREAM) {
    return kit::Fd(kit::check(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0), "socket"));
}

// One send() of the whole string; false if it was refused or cut.
[[nodiscard]] inline bool send_str(int fd, std::string_view s) {
    return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

// One recv() once something is there (bounded), as a string; "" is EOF.
// MSG_DONTWAIT: what is there now, never a wait the deadline does not bound.
[[nodiscard]] inline std::string recv_once(int fd, std::size_t size = 64) {
    if (!kit::wait_readable(fd)) return "<timeout>";
    std::string buf(size, '\0');
    ssize_t n = ::recv(fd, buf.data(), size, MSG_DONTWAIT);
    return n < 0 ? "<error " + std::string(strerrorname_np(errno)) + ">"
                 : buf.substr(0, static_cast<std::size_t>(n));
}

// accept4() once a connection is waiting (bounded): an empty Fd if none came,
// so a client that failed before connect() fails the test instead of hanging it.
[[nodiscard]] inline kit::Fd accept_one(int listener) {
    if (!kit::wait_readable(listener)) return kit::Fd();
    return kit::Fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

// The port a socket is bound to (after bind(port 0), the one the kernel chose).
[[nodiscard]] inline unsigned short local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    kit::check(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), "getsockname");
    return ntohs(a.sin_port);
}

[[nodiscard]] inline bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

[[nodiscard]] inline std::string proc_net_unix() {
    std::ifstream in("/proc/net/unix");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// How many descriptors this process has open.
[[nodiscard]] inline std::size_t open_fd_count() {
    std::size_t n = 0;
    for (int fd = 0; fd < 4096; ++fd)
        if (::fcntl(fd, F_GETFD) != -1) ++n;
    return n;
}

// ---- TCP and UDP on 127.0.0.1 --------------------------------------------------

[[nodiscard]] inline const sockaddr* sa(const sockaddr_in& a) {
    return reinterpret_cast<const sockaddr*>(&a);
}

[[nodiscard]] inline kit::Fd inet_socket(int type, bool reuse = false) {
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

[[nodiscard]] inline Listener listen_loopback(bool reuse = false) {
    kit::Fd fd = inet_socket(SOCK_STREAM, reuse);
    const auto addr = inet4("127.0.0.1", 0);
    kit::check(::bind(fd.get(), sa(addr), sizeof addr), "bind");
    kit::check(::listen(fd.get(), 16), "listen");
    const unsigned short port = local_port(fd.get());
    return {std::move(fd), port};
}

[[nodiscard]] inline kit::Fd connect_loopback(unsigned short port, bool nodelay = false) {
    kit::Fd fd = inet_socket(SOCK_STREAM);
    int on = nodelay ? 1 : 0;
    kit::check(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on), "setsockopt");
    const auto addr = inet4("127.0.0.1", port);
    kit::check(::connect(fd.get(), sa(addr), sizeof addr), "connect");
    return fd;
}

// accept4() once a connection is waiting; throws (fails the test) if none came.
[[nodiscard]] inline kit::Fd accept_tcp(int listener) {
    if (!kit::wait_readable(listener)) throw kit::SysError(ETIMEDOUT, "accept");
    return kit::Fd(kit::check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
}

// Waits (bounded) until `bytes` bytes sit unread in fd's receive queue, so
// that what one recv() returns no longer depends on timing.
[[nodiscard]] inline bool wait_queued(int fd, int bytes) {
    const auto end = std::chrono::steady_clock::now() + kit::kDeadline;
    for (;;) {
        int queued = 0;
        kit::check(::ioctl(fd, FIONREAD, &queued), "ioctl");
        if (queued >= bytes) return true;
        if (std::chrono::steady_clock::now() > end) return false;
        (void)kit::wait_readable(fd, std::chrono::milliseconds(10));
    }
}

// "listening on ADDR:PORT" -> PORT
[[nodiscard]] inline std::string port_of(const std::string& line) {
    return line.substr(line.rfind(':') + 1);
}

// ---- SCM_RIGHTS ------------------------------------------------------------

// Sends one byte of data carrying fds as SCM_RIGHTS; returns sendmsg's result.
inline ssize_t send_fds(int sock, const std::vector<int>& fds) {
    char byte = 'F';
    iovec iov{&byte, 1};
    std::vector<char> control(CMSG_SPACE(fds.size() * sizeof(int)));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
    return ::sendmsg(sock, &msg, MSG_NOSIGNAL);
}

// What one recvmsg() delivered: the fds (owned) and msg_flags.
struct Received {
    std::vector<kit::Fd> fds;
    int flags = 0;
};

// Receives with room for `room` fds in the control buffer.
[[nodiscard]] inline Received recv_fds(int sock, std::size_t room) {
    char byte;
    iovec iov{&byte, 1};
    std::vector<char> control(CMSG_SPACE(room * sizeof(int)));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    if (!kit::wait_readable(sock)) throw kit::SysError(ETIMEDOUT, "recvmsg");
    kit::check(::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC), "recvmsg");
    Received r;
    r.flags = msg.msg_flags;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < n; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            r.fds.emplace_back(fd);
        }
    }
    return r;
}

// ---- a server program in the background -------------------------------------
// kit::test::run_program runs a program to its end; a server must keep running
// while the test plays its client, so it is started here with its stdout (and
// stderr) on a pipe. kit::Child kills and reaps it if the test ends early.

// Starts the chapter's program `name` with `args`, beside the test.
[[nodiscard]] inline kit::test::Running start_program(std::string_view name,
                                                      const std::vector<std::string>& args = {}) {
    std::vector<std::string> argv{kit::test::program_path(name)};
    argv.insert(argv.end(), args.begin(), args.end());
    return kit::test::start_program(argv);
}

// One line (without '\n') from fd, or what arrived before EOF or the deadline.
[[nodiscard]] inline std::string read_line(int fd) {
    std::string line;
    char c;
    while (kit::wait_readable(fd) && ::read(fd, &c, 1) == 1 && c != '\n') line += c;
    return line;
}

// Everything until EOF (bounded by the deadline of each wait).
[[nodiscard]] inline std::string read_rest(int fd) {
    std::string all;
    char buf[4096];
    ssize_t n;
    while (kit::wait_readable(fd) && (n = ::read(fd, buf, sizeof buf)) > 0)
        all.append(buf, static_cast<std::size_t>(n));
    return all;
}

// The last word of a line such as "listening on /tmp/x.sock".
[[nodiscard]] inline std::string last_word(const std::string& line) {
    return line.substr(line.rfind(' ') + 1);
}

// ---- a fresh network namespace ---------------------------------------------

// Moves the calling process (a forked child: a process with one thread) into
// a new network namespace: directly where it may (root), else inside a new
// user namespace, which an ordinary user may create where the system allows
// it. False if both are refused.
[[nodiscard]] inline bool enter_new_network_namespace() {
    return ::unshare(CLONE_NEWNET) == 0 || ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
}

}  // namespace ch07
