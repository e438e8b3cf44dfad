// fd_pass_recv — receives open file descriptors with recvmsg() + SCM_RIGHTS and
// uses them as if it had opened them itself.
//
// Run:    ./fd_pass_recv [PATH] &     (prints "listening on PATH"; unique PATH if omitted)
//         ./fd_pass_send PATH
// Prints: each sender fd number beside the new number it got here, then what it
//         reads through each: the pipe's bytes, the file from the SENDER's
//         offset (2), the memfd's contents.
//         SIGINT or SIGTERM before a sender came: it removes PATH and exits 0.
//         SIGKILL cannot be caught: the socket file stays behind (remove it by hand;
//         unix_stream_server shows how to tell such a stale socket from a live one).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "socket_addr.hpp"

namespace {

volatile sig_atomic_t stop_signal = 0;
void on_stop(int sig) { stop_signal = sig; }

// Waits until fd is readable; false once SIGINT/SIGTERM arrived (they are
// blocked except inside ppoll(), so none slips in just before the wait).
bool wait_or_stop(int fd, const sigset_t& unblocked) {
    pollfd p{fd, POLLIN, 0};
    while (!stop_signal) {
        int n = ::ppoll(&p, 1, nullptr, &unblocked);
        if (n == -1 && errno == EINTR) continue;
        kit::check(n, "ppoll");
        return true;
    }
    return false;
}

std::string read_some(int fd, std::size_t max) {
    std::array<char, 64> buf{};
    ssize_t n;
    while ((n = ::read(fd, buf.data(), std::min(max, buf.size()))) == -1 && errno == EINTR) {
    }
    kit::check(n, "read");
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PATH]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        const std::string path =
            args.empty() ? kit::unique_temp_path("fdpass.sock") : std::string(args[0]);
        const auto addr = ch07::unix_path(path);
        sigset_t stops, unblocked;
        sigemptyset(&stops);
        sigaddset(&stops, SIGINT);
        sigaddset(&stops, SIGTERM);
        kit::check(::sigprocmask(SIG_BLOCK, &stops, &unblocked), "sigprocmask");
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        kit::check(::sigaction(SIGINT, &sa, nullptr), "sigaction");
        kit::check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");
        kit::Fd listener(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::bind(listener.get(), addr.get(), addr.len), "bind");
        auto remove_path = kit::unlink_guard(path);
        kit::check(::listen(listener.get(), 1), "listen");
        std::printf("listening on %s\n", path.c_str());
        std::fflush(stdout);
        if (!wait_or_stop(listener.get(), unblocked)) {
            std::printf("stopped by SIG%s, removed %s\n", sigabbrev_np(stop_signal), path.c_str());
            return 0;  // remove_path unlinks PATH on the way out
        }
        kit::Fd conn(
            kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept4"));

        std::array<char, 64> data{};
        iovec iov{data.data(), data.size()};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(3 * sizeof(int))> control{};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        ssize_t n;
        // MSG_CMSG_CLOEXEC: the new fds are not inherited by anything we exec.
        while ((n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR) {
        }
        kit::check(n, "recvmsg");
        if (msg.msg_flags & MSG_CTRUNC)
            throw kit::SysError(EMSGSIZE, "recvmsg (control data truncated)");
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
            cmsg->cmsg_len != CMSG_LEN(3 * sizeof(int)))
            throw kit::SysError(EPROTO, "recvmsg (expected 3 fds)");
        std::array<int, 3> raw{};
        std::memcpy(raw.data(), CMSG_DATA(cmsg), sizeof raw);
        kit::Fd pipe_read(raw[0]), file(raw[1]), memfd(raw[2]);

        std::printf("receiver: sender's fds %.*s arrived here as %d %d %d\n", int(n), data.data(),
                    raw[0], raw[1], raw[2]);
        std::printf("receiver: pipe  -> \"%s\"\n", read_some(pipe_read.get(), 64).c_str());
        std::printf("receiver: file  -> \"%s\" (3 bytes from the offset the sender left)\n",
                    read_some(file.get(), 3).c_str());
        char mem[32];
        ssize_t m = kit::check(::pread(memfd.get(), mem, sizeof mem, 0), "pread");
        std::printf("receiver: memfd -> \"%.*s\"\n", int(m), mem);
        std::fflush(stdout);

        kit::write_all(conn.get(), std::as_bytes(std::span("done", 4)));
        return 0;
    });
}
