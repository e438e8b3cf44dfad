// Tests of chapter 07 for Unix-domain sockets, part 3 (chapter07.*): passing
// descriptors (SCM_RIGHTS), SIGPIPE, and a socket without any network.
#include <fcntl.h>
#include <grp.h>
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
#include "kit/sanitizer.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "socket_addr.hpp"
#include "socket_test_util.hpp"

using namespace ch07;
using kit::test::program_path;
using kit::test::run_program;

// ---- passing descriptors (SCM_RIGHTS) ------------------------------------

namespace {

// A 10-byte regular file with no name left: only descriptors keep it.
kit::Fd anonymous_file() {
    const std::string path = kit::unique_temp_path("file");
    kit::Fd f(
        kit::check(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600), "open"));
    kit::check(::unlink(path.c_str()), "unlink");
    kit::write_all(f.get(), std::as_bytes(std::span("0123456789", 10)));
    return f;
}

}  // namespace

TEST(FdPassing, ReceiverSharesTheSendersFileOffset) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    // The child exists before the file is opened: it cannot have inherited it.
    auto child = kit::spawn([&] {
        mine.reset();
        auto got = recv_fds(theirs.get(), 1);
        if (got.fds.size() != 1) return 1;
        char buf[3];
        if (::read(got.fds[0].get(), buf, 3) != 3 || std::string(buf, 3) != "234") return 2;
        return 0;  // the read moved the shared offset from 2 to 5
    });
    theirs.reset();
    kit::Fd file = anonymous_file();
    ASSERT_EQ(::lseek(file.get(), 2, SEEK_SET), 2);
    ASSERT_EQ(send_fds(mine.get(), {file.get()}), 1);
    ASSERT_TRUE(child.wait().ok()) << "child read from the wrong offset";
    EXPECT_EQ(::lseek(file.get(), 0, SEEK_CUR), 5);
    char buf[5];
    ASSERT_EQ(::read(file.get(), buf, 5), 5);
    EXPECT_EQ(std::string(buf, 5), "56789");
}

TEST(FdPassing, StatusFlagsAreSharedBecauseItIsOneOpenFileDescription) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        auto got = recv_fds(theirs.get(), 1);
        if (got.fds.size() != 1) return 1;
        int fl = kit::check(::fcntl(got.fds[0].get(), F_GETFL), "fcntl");
        kit::check(::fcntl(got.fds[0].get(), F_SETFL, fl | O_NONBLOCK), "fcntl");
        kit::write_all(theirs.get(), std::as_bytes(std::span("k", 1)));
        return 0;
    });
    auto p = kit::make_pipe();
    ASSERT_EQ(::fcntl(p.read.get(), F_GETFL) & O_NONBLOCK, 0);
    ASSERT_EQ(send_fds(mine.get(), {p.read.get()}), 1);
    ASSERT_EQ(recv_once(mine.get()), "k");
    EXPECT_NE(::fcntl(p.read.get(), F_GETFL) & O_NONBLOCK, 0);  // set by the other process
    EXPECT_TRUE(child.wait().ok());
}

TEST(FdPassing, NumberIsTheReceiversLowestFreeDescriptorNotTheSenders) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        const int lowest = kit::check(::fcntl(theirs.get(), F_DUPFD_CLOEXEC, 0), "fcntl");
        kit::check(::close(lowest), "close");
        auto got = recv_fds(theirs.get(), 1);
        if (got.fds.size() != 1) return 1;
        return got.fds[0].get() == lowest ? 0 : 2;
    });
    auto p = kit::make_pipe();
    kit::Fd high(
        kit::check(::fcntl(p.read.get(), F_DUPFD_CLOEXEC, 200), "fcntl"));  // number >= 200
    ASSERT_GE(high.get(), 200);
    ASSERT_EQ(send_fds(mine.get(), {high.get()}), 1);
    EXPECT_TRUE(child.wait().ok());
}

TEST(FdPassing, APassedPipeEndAndMemfdWorkInTheReceiver) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        auto got = recv_fds(theirs.get(), 2);
        if (got.fds.size() != 2) return 1;
        char buf[16];
        ssize_t n = ::read(got.fds[0].get(), buf, sizeof buf);
        if (n != 4 || std::string(buf, 4) != "pipe") return 2;
        kit::check(::pwrite(got.fds[1].get(), "CHILD", 5, 0), "pwrite");  // same memory
        return 0;
    });
    auto p = kit::make_pipe();
    kit::Fd mem(kit::check(::memfd_create("ipckit-test", MFD_CLOEXEC), "memfd_create"));
    ASSERT_EQ(::write(mem.get(), "parent", 6), 6);
    ASSERT_EQ(send_fds(mine.get(), {p.read.get(), mem.get()}), 1);
    p.read.reset();  // our copy is gone; the child's still works
    ASSERT_EQ(::write(p.write.get(), "pipe", 4), 4);
    ASSERT_TRUE(child.wait().ok());
    char buf[6];
    ASSERT_EQ(::pread(mem.get(), buf, 6, 0), 6);
    EXPECT_EQ(std::string(buf, 6), "CHILDt");
}

TEST(FdPassing, TooSmallControlBufferSetsCtruncAndClosesTheExtraFds) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    auto p = kit::make_pipe();
    const std::size_t before = open_fd_count();
    ASSERT_EQ(send_fds(a.get(), {p.read.get(), p.write.get(), p.read.get(), p.write.get()}), 1);
    {
        // CMSG_SPACE(sizeof(int)) is padded to 8-byte alignment: room for 2 ints.
        auto got = recv_fds(b.get(), 1);
        EXPECT_TRUE(got.flags & MSG_CTRUNC);
        EXPECT_EQ(got.fds.size(), (CMSG_SPACE(sizeof(int)) - CMSG_LEN(0)) / sizeof(int));
        EXPECT_LT(got.fds.size(), 4u);
        EXPECT_EQ(open_fd_count(),
                  before + got.fds.size());  // the rest were closed for us
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(FdPassing, MoreThanScmMaxFd253FdsIsEinval) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    auto p = kit::make_pipe();
    errno = 0;
    EXPECT_EQ(send_fds(a.get(), std::vector<int>(254, p.read.get())), -1);
    EXPECT_EQ(errno, EINVAL);
    ASSERT_EQ(send_fds(a.get(), std::vector<int>(253, p.read.get())), 1);
    auto got = recv_fds(b.get(), 253);
    EXPECT_EQ(got.fds.size(), 253u);
}

TEST(FdPassing, ProgramsPassPipeFileAndMemfdBetweenUnrelatedProcesses) {
    kit::test::Running receiver = start_program("fd_pass_recv");
    const std::string first = read_line(receiver.output.get());
    ASSERT_EQ(first.rfind("listening on ", 0), 0u) << first;
    auto guard = kit::unlink_guard(last_word(first));
    auto sender = run_program({program_path("fd_pass_send"), guard.name()});
    EXPECT_TRUE(sender.status.ok()) << sender.err;
    EXPECT_NE(sender.out.find("my file offset is now 5 (was 2)"), std::string::npos) << sender.out;
    const std::string rest = read_rest(receiver.output.get());
    EXPECT_TRUE(receiver.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("pipe  -> \"through the pipe\""), std::string::npos) << rest;
    EXPECT_NE(rest.find("file  -> \"234\""), std::string::npos) << rest;
    EXPECT_NE(rest.find("memfd -> \"memfd contents\""), std::string::npos) << rest;
}

// ---- SIGPIPE -------------------------------------------------------------

TEST(SocketSigpipe, WriteToAClosedPeerKillsTheWriterWithSigpipe) {
    auto [mine, peer] = socket_pair(SOCK_STREAM);
    peer.reset();
    auto child = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        (void)::write(mine.get(), "x", 1);
        return 0;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.killed_by(SIGPIPE)) << st.describe();
}

TEST(SocketSigpipe, MsgNosignalTurnsItIntoEpipe) {
    auto [mine, peer] = socket_pair(SOCK_STREAM);
    peer.reset();
    auto child = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        errno = 0;
        ssize_t n = ::send(mine.get(), "x", 1, MSG_NOSIGNAL);
        return n == -1 && errno == EPIPE ? 0 : 1;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(SocketSigpipe, ReadFromAClosedPeerIsEofNotASignal) {
    auto [mine, peer] = socket_pair(SOCK_STREAM);
    peer.reset();
    char c;
    EXPECT_EQ(::read(mine.get(), &c, 1), 0);
}

// ---- a Unix socket needs no network --------------------------------------

namespace {

// In a fresh network namespace lo exists but is down. Exit codes: 0 as
// claimed, 3 no namespace allowed, 10/11 the socketpair failed, 12/13 TCP
// did not fail with ENETUNREACH.
int unix_works_where_tcp_cannot() {
    auto [a, b] = socket_pair(SOCK_STREAM);
    if (::write(a.get(), "ok", 2) != 2) return 10;
    char buf[2];
    if (::read(b.get(), buf, 2) != 2) return 11;
    const auto addr = ch07::inet4("127.0.0.1", 9);
    kit::Fd tcp(kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    errno = 0;
    if (::connect(tcp.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return 12;
    return errno == ENETUNREACH ? 0 : 13;
}

}  // namespace

TEST(NoNetwork, UnixSocketsWorkWhereTcpToLoopbackIsUnreachable) {
    auto child = kit::spawn([&] {
        if (!enter_new_network_namespace()) return 100 + errno;
        return unix_works_where_tcp_cannot();
    });
    auto st = child.wait();
    if (st.how == kit::ExitStatus::How::exited && st.code >= 100)
        GTEST_SKIP() << "unshare(CLONE_NEWNET) and unshare(CLONE_NEWUSER | CLONE_NEWNET) refused: "
                     << strerrorname_np(st.code - 100);
    EXPECT_TRUE(st.ok()) << st.describe()
                         << " (10/11: socketpair failed, 12/13: TCP did not fail with ENETUNREACH)";
}

TEST(NoNetwork, AnOrdinaryUserGetsItsNetworkNamespaceInsideAUserNamespace) {
    const bool can_drop = kit::has_capability(CAP_SETUID) && kit::has_capability(CAP_SETGID);
    if (::getuid() == 0 && !can_drop)
        GTEST_SKIP() << "root without CAP_SETUID cannot become a user";
    auto child = kit::spawn([&] {
        if (::getuid() == 0) {  // become an ordinary user (nobody) first
            kit::check(::setgroups(0, nullptr), "setgroups");
            kit::check(::setgid(65534), "setgid");
            kit::check(::setuid(65534), "setuid");
        }
        errno = 0;
        if (::unshare(CLONE_NEWNET) == 0 || errno != EPERM) return 20;  // an ordinary user may not
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1) return errno == EINVAL ? 4 : 3;
        return unix_works_where_tcp_cannot();
    });
    auto st = child.wait();
    if (st.exited_with(3))
        GTEST_SKIP() << "unprivileged user namespaces are refused here (unshare(CLONE_NEWUSER))";
    if (st.exited_with(4))  // a process with more than one thread may not enter a user namespace
        GTEST_SKIP() << "unshare(CLONE_NEWUSER): EINVAL, this process has more than one thread"
                     << (kit::kThreadSanitizer ? " (ThreadSanitizer's runtime)" : "");
    EXPECT_TRUE(st.ok()) << st.describe()
                         << " (20: CLONE_NEWNET alone did not fail with EPERM; 10..13 as above)";
}

TEST(NoNetwork, ProgramShowsUnixSocketsWorkWhereTcpIsUnreachable) {
    auto r = run_program({program_path("no_network_needed")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    if (r.out.find("cannot show it here") != std::string::npos) GTEST_SKIP() << r.out;
    EXPECT_NE(r.out.find("socketpair(AF_UNIX): read \"still works\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("TCP connect(127.0.0.1): ENETUNREACH"), std::string::npos) << r.out;
}
