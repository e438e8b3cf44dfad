// Tests of chapter 07 for what a process's death does to sockets
// (chapter07.SocketCrash.*, chapter07.FdPassingCrash.*): one side is killed
// with SIGKILL at the step that matters; the survivor's view and what is left
// in the system are asserted. Also the programs' clean exit on SIGINT/SIGTERM.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "socket_addr.hpp"
#include "socket_test_util.hpp"

using namespace ch07;
using kit::test::program_path;
using kit::test::run_program;

namespace {

// A child stopped at a step: it tells the parent "I am there" with one byte,
// then blocks reading a pipe nobody writes, until the parent kills it.
struct AtStep {
    kit::Pipe told = kit::make_pipe();
    kit::Pipe hold = kit::make_pipe();
    // In the child: report the step, then block.
    void reached() {
        kit::check(::write(told.write.get(), "s", 1), "write");
        char c;
        (void)::read(hold.read.get(), &c, 1);
    }
    // In the parent: true once the child reported (bounded).
    bool wait() {
        told.write.reset();
        char c;
        return kit::wait_readable(told.read.get()) && ::read(told.read.get(), &c, 1) == 1;
    }
};

kit::ExitStatus kill_and_reap(kit::Child& c) {
    ::kill(c.pid(), SIGKILL);
    return c.wait();
}

// The inode of a socket descriptor, as /proc/<pid>/fd shows it ("socket:[N]").
std::string socket_inode(pid_t pid, int fd) {
    char buf[64];
    const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    ssize_t n = kit::check(::readlink(link.c_str(), buf, sizeof buf), "readlink");
    std::string s(buf, static_cast<std::size_t>(n));
    return s.substr(8, s.size() - 9);  // "socket:[" ... "]"
}

// True if /proc/net/unix lists a socket with this inode.
bool listed(const std::string& inode) {
    return proc_net_unix().find(" " + inode) != std::string::npos;
}

}  // namespace

// ---- a connected stream: the peer dies ---------------------------------------

TEST(SocketCrash, PeerKilledTheReaderGetsEof) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    AtStep step;
    auto child = kit::spawn([&] {
        mine.reset();
        step.reached();  // holds `theirs` open, writes nothing
    });
    theirs.reset();
    ASSERT_TRUE(step.wait());
    EXPECT_FALSE(
        kit::wait_readable(mine.get(), std::chrono::milliseconds(0)));  // alive: nothing yet
    EXPECT_TRUE(kill_and_reap(child).killed_by(SIGKILL));
    ASSERT_TRUE(kit::wait_readable(mine.get()));
    char c;
    EXPECT_EQ(::read(mine.get(), &c, 1), 0);  // EOF, as after a close()
}

TEST(SocketCrash, PeerKilledTheWriterGetsSigpipeOrWithMsgNosignalEpipe) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    AtStep step;
    auto child = kit::spawn([&] {
        mine.reset();
        step.reached();
    });
    theirs.reset();
    ASSERT_TRUE(step.wait());
    kill_and_reap(child);
    auto writer = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        (void)::write(mine.get(), "x", 1);
        return 0;
    });
    EXPECT_TRUE(writer.wait().killed_by(SIGPIPE));
    errno = 0;
    EXPECT_EQ(::send(mine.get(), "x", 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);
}

TEST(SocketCrash, PeerKilledWithUnreadDataTheReaderGetsEconnresetOnceTheWriterEpipe) {
    // AF_UNIX: a socket closed with bytes still in its receive queue sets
    // ECONNRESET as its peer's pending error (unix_release_sock): one read
    // returns it, the next is an ordinary EOF.
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    AtStep step;
    auto child = kit::spawn([&] {
        mine.reset();
        step.reached();  // never reads what the parent sent
    });
    theirs.reset();
    ASSERT_TRUE(send_str(mine.get(), "unread"));
    ASSERT_TRUE(step.wait());
    kill_and_reap(child);
    errno = 0;
    EXPECT_EQ(::send(mine.get(), "x", 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE);  // a writer still gets EPIPE, not ECONNRESET
    char c;
    errno = 0;
    EXPECT_EQ(::read(mine.get(), &c, 1), -1);
    EXPECT_EQ(errno, ECONNRESET);  // the reader is told its data was never read
    EXPECT_EQ(::read(mine.get(), &c, 1), 0);
}

// ---- names: what a killed server leaves ----------------------------------------

TEST(SocketCrash, APathSocketStaysAfterItsServerIsKilledAndTheNextServerReplacesIt) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("crash.sock"));
    {
        kit::test::Running server = start_program("unix_stream_server", {guard.name()});
        ASSERT_EQ(read_line(server.output.get()), "listening on " + guard.name());
        EXPECT_TRUE(kill_and_reap(server.child).killed_by(SIGKILL));
    }
    struct stat st {};
    ASSERT_EQ(::lstat(guard.c_str(), &st), 0) << "SIGKILL left no socket file?";
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    const auto addr = ch07::unix_path(guard.name());
    auto probe = unix_socket();
    errno = 0;
    EXPECT_EQ(::connect(probe.get(), addr.get(), addr.len), -1);
    EXPECT_EQ(errno, ECONNREFUSED);  // a file, nobody behind it
    // Recovery: the next server proves it stale and takes the path over.
    kit::test::Running next = start_program("unix_stream_server", {guard.name()});
    EXPECT_NE(read_line(next.output.get()).find("stale socket, unlinking"), std::string::npos);
    EXPECT_EQ(read_line(next.output.get()), "listening on " + guard.name());
    auto client = run_program({program_path("unix_stream_client"), guard.name(), "back"});
    EXPECT_EQ(client.out, "reply: BACK\n");
    EXPECT_TRUE(next.child.wait().ok());
    EXPECT_FALSE(exists(guard.name()));
}

TEST(FdPassingCrash, AKilledReceiverLeavesItsPathAndARestartIsEaddrinuse) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("crash-fd.sock"));
    {
        kit::test::Running receiver = start_program("fd_pass_recv", {guard.name()});
        ASSERT_EQ(read_line(receiver.output.get()), "listening on " + guard.name());
        EXPECT_TRUE(kill_and_reap(receiver.child).killed_by(SIGKILL));
    }
    EXPECT_TRUE(exists(guard.name())) << "SIGKILL left no socket file?";
    auto again = run_program({program_path("fd_pass_recv"), guard.name()});
    EXPECT_TRUE(again.status.exited_with(1)) << again.status.describe();
    EXPECT_EQ(again.err, "fd_pass_recv: bind: Address already in use\n")
        << "a restart on the leftover path fails with EADDRINUSE";
}

TEST(SocketCrash, AnAbstractNameVanishesWithItsLastDescriptor) {
    const std::string name = kit::unique_name("crash-abs");
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    name.copy(sun.sun_path + 1, name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    const auto* addr = reinterpret_cast<const sockaddr*>(&sun);
    AtStep step;
    auto server = kit::spawn([&] {
        auto l = unix_socket();
        kit::check(::bind(l.get(), addr, len), "bind");
        kit::check(::listen(l.get(), 1), "listen");
        step.reached();
    });
    ASSERT_TRUE(step.wait());
    EXPECT_NE(proc_net_unix().find(" @" + name + "\n"), std::string::npos);
    EXPECT_TRUE(kill_and_reap(server).killed_by(SIGKILL));
    EXPECT_EQ(proc_net_unix().find(" @" + name + "\n"), std::string::npos);  // nothing left
    auto again = unix_socket();
    EXPECT_EQ(::bind(again.get(), addr, len), 0) << "the name is free without any cleanup";
}

TEST(SocketCrash, ASocketpairLeavesNothingBehind) {
    AtStep step;
    auto child = kit::spawn([&] {
        auto [a, b] = socket_pair(SOCK_STREAM);
        kit::check(::dup2(a.get(), 100), "dup2");
        kit::check(::dup2(b.get(), 101), "dup2");
        step.reached();
    });
    ASSERT_TRUE(step.wait());
    const std::string ia = socket_inode(child.pid(), 100), ib = socket_inode(child.pid(), 101);
    EXPECT_TRUE(listed(ia));
    EXPECT_TRUE(listed(ib));
    EXPECT_TRUE(kill_and_reap(child).killed_by(SIGKILL));
    EXPECT_FALSE(listed(ia));  // no name, no file, no kernel object left
    EXPECT_FALSE(listed(ib));
}

// ---- descriptors in flight (SCM_RIGHTS) ---------------------------------------

TEST(FdPassingCrash, AnFdInFlightWhenTheSenderDiesIsStillDelivered) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    AtStep step;
    auto sender = kit::spawn([&] {
        mine.reset();
        auto p = kit::make_pipe();
        kit::write_all(p.write.get(), std::as_bytes(std::span("left for you", 12)));
        if (send_fds(theirs.get(), {p.read.get()}) != 1) return 1;
        step.reached();  // the read end is in flight, the write end still open here
        return 0;
    });
    theirs.reset();
    ASSERT_TRUE(step.wait());
    EXPECT_TRUE(kill_and_reap(sender).killed_by(SIGKILL));
    auto got = recv_fds(mine.get(), 1);  // the dead sender's message is still queued
    ASSERT_EQ(got.fds.size(), 1u);
    char buf[32];
    ASSERT_EQ(::read(got.fds[0].get(), buf, sizeof buf), 12);
    EXPECT_EQ(std::string(buf, 12), "left for you");
    EXPECT_EQ(::read(got.fds[0].get(), buf, sizeof buf), 0);  // the writer died: EOF
}

TEST(FdPassingCrash, AReceiverKilledWithFdsInFlightHasThemClosed) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    AtStep step;
    auto receiver = kit::spawn([&] {
        mine.reset();
        step.reached();  // never calls recvmsg()
    });
    theirs.reset();
    auto p = kit::make_pipe();
    ASSERT_EQ(send_fds(mine.get(), {p.write.get()}), 1);
    p.write.reset();  // the only write end left is the one in flight
    ASSERT_TRUE(step.wait());
    EXPECT_FALSE(kit::wait_readable(p.read.get(), std::chrono::milliseconds(0)));  // no EOF yet
    EXPECT_TRUE(kill_and_reap(receiver).killed_by(SIGKILL));
    // The receiver's socket died with its queue; the kernel closed the fd in it.
    ASSERT_TRUE(kit::wait_readable(p.read.get()));
    char c;
    EXPECT_EQ(::read(p.read.get(), &c, 1), 0);
}

// ---- a server noticing a dead client ------------------------------------------

TEST(SocketCrash, AServerSeesItsClientDieThroughSoPeercredAndAPidfd) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("alive.sock"));
    const auto addr = ch07::unix_path(guard.name());
    auto listener = unix_socket();
    ASSERT_EQ(::bind(listener.get(), addr.get(), addr.len), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    AtStep step;
    auto client = kit::spawn([&] {
        auto c = unix_socket();
        kit::check(::connect(c.get(), addr.get(), addr.len), "connect");
        step.reached();
    });
    kit::Fd conn = accept_one(listener.get());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(step.wait());
    ucred cred{};
    socklen_t len = sizeof cred;
    ASSERT_EQ(::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
    ASSERT_EQ(cred.pid, client.pid());
    kit::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, cred.pid, 0)));
    if (!pidfd) GTEST_SKIP() << "pidfd_open: " << strerrorname_np(errno);
    EXPECT_FALSE(kit::wait_readable(pidfd.get(), std::chrono::milliseconds(0)));  // alive
    ::kill(client.pid(), SIGKILL);
    EXPECT_TRUE(kit::wait_readable(pidfd.get()));  // POLLIN: the process has ended
    EXPECT_TRUE(kit::wait_readable(conn.get()));   // and its socket reads EOF
    char c;
    EXPECT_EQ(::read(conn.get(), &c, 1), 0);
    EXPECT_TRUE(client.wait().killed_by(SIGKILL));
}

// ---- SIGINT / SIGTERM: the programs remove their names --------------------------

namespace {

// Starts `prog` on a fresh path, waits for its ready line, sends `sig`, and
// returns (exit status, the rest of its output); the path must be gone.
void stop_with(const char* prog, int sig) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("stop.sock"));
    kit::test::Running p = start_program(prog, {guard.name()});
    ASSERT_EQ(read_line(p.output.get()), "listening on " + guard.name());
    EXPECT_TRUE(exists(guard.name()));
    ASSERT_EQ(::kill(p.child.pid(), sig), 0);
    const std::string rest = read_rest(p.output.get());
    EXPECT_TRUE(p.child.wait().ok()) << rest;
    EXPECT_EQ(rest.rfind(std::string("stopped by SIG") + sigabbrev_np(sig), 0), 0u) << rest;
    EXPECT_FALSE(exists(guard.name())) << prog << " left its socket file after a signal";
}

}  // namespace

TEST(UnixStreamPrograms, ServerRemovesItsPathOnSigint) { stop_with("unix_stream_server", SIGINT); }

TEST(UnixStreamPrograms, ServerRemovesItsPathOnSigterm) {
    stop_with("unix_stream_server", SIGTERM);
}

TEST(FdPassing, ReceiverRemovesItsPathOnSigintAndSigterm) {
    stop_with("fd_pass_recv", SIGINT);
    stop_with("fd_pass_recv", SIGTERM);
}
