// socket_test_util.hpp — helpers for this chapter's tests: programs started in
// the background, bounded line reads, and SCM_RIGHTS send/receive.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

namespace socktest {

// A program running in the background with its stdout on a pipe (stderr
// joins it, so failures show up in test messages). Killed and reaped by
// kit::Child if the test ends early.
struct Background {
    kit::Child child;
    kit::Fd out;
};

[[nodiscard]] inline Background start(const std::vector<std::string>& argv) {
    auto p = kit::make_pipe();
    kit::Child child = kit::spawn([&] {
        kit::check(::dup2(p.write.get(), STDOUT_FILENO), "dup2");
        kit::check(::dup2(p.write.get(), STDERR_FILENO), "dup2");
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        return 127;
    });
    p.write.reset();
    return {std::move(child), std::move(p.read)};
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

// How many descriptors this process has open.
[[nodiscard]] inline std::size_t open_fd_count() {
    std::size_t n = 0;
    for (int fd = 0; fd < 4096; ++fd)
        if (::fcntl(fd, F_GETFD) != -1) ++n;
    return n;
}

}  // namespace socktest
