// Tests of chapter 07 for Unix-domain sockets (chapter07.*): socketpair,
// message boundaries, path-bound and abstract names, peer credentials,
// passing descriptors, SIGPIPE, and a socket without any network.
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
#include <fstream>
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

namespace {

std::string prog(const char* name) {
    return std::string(KIT_BIN_DIR) + "/" + name;
}

struct Pair {
    kit::Fd a, b;
};

Pair socket_pair(int type) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), "socketpair");
    return {kit::Fd(sv[0]), kit::Fd(sv[1])};
}

kit::Fd unix_socket(int type = SOCK_STREAM) {
    return kit::Fd(kit::check(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0), "socket"));
}

void send_str(int fd, std::string_view s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// One recv() (bounded), as a string.
std::string recv_once(int fd, std::size_t size = 64, int flags = 0) {
    if (!kit::wait_readable(fd)) return "<timeout>";
    std::string buf(size, '\0');
    ssize_t n = ::recv(fd, buf.data(), size, flags);
    return n < 0 ? "<error " + std::to_string(errno) + ">"
                 : buf.substr(0, static_cast<std::size_t>(n));
}

// accept4() once a connection is waiting (bounded), so a client that failed
// before connect() fails the test instead of hanging it.
kit::Fd accept_one(int listener) {
    if (!kit::wait_readable(listener)) return kit::Fd();
    return kit::Fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string proc_net_unix() {
    std::ifstream in("/proc/net/unix");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// ---- socketpair: one descriptor, both directions -------------------------

TEST(SocketPairDuplex, BothProcessesSendFirstThenReadOnTheSameDescriptor) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        mine.reset();
        kit::write_all(theirs.get(), std::as_bytes(std::span("from child", 10)));
        return recv_once(theirs.get()) == "from parent" ? 0 : 1;
    });
    theirs.reset();
    send_str(mine.get(), "from parent");  // both directions are in flight now
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
    send_str(b.get(), "still open");
    EXPECT_EQ(recv_once(a.get()), "still open");
}

// ---- message boundaries ---------------------------------------------------

TEST(MessageBoundaries, StreamMergesTwoSendsIntoOneRecv) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    send_str(a.get(), "hello");
    send_str(a.get(), "world");
    EXPECT_EQ(recv_once(b.get()), "helloworld");
}

TEST(MessageBoundaries, SeqpacketReturnsOneSendPerRecv) {
    auto [a, b] = socket_pair(SOCK_SEQPACKET);
    send_str(a.get(), "hello");
    send_str(a.get(), "world");
    EXPECT_EQ(recv_once(b.get()), "hello");
    EXPECT_EQ(recv_once(b.get()), "world");
}

TEST(MessageBoundaries, DgramReturnsOneSendPerRecv) {
    auto [a, b] = socket_pair(SOCK_DGRAM);
    send_str(a.get(), "hello");
    send_str(a.get(), "world");
    EXPECT_EQ(recv_once(b.get()), "hello");
    EXPECT_EQ(recv_once(b.get()), "world");
}

TEST(MessageBoundaries, TooSmallBufferTruncatesADatagramAndDiscardsTheRest) {
    auto [a, b] = socket_pair(SOCK_DGRAM);
    send_str(a.get(), "hello");
    send_str(a.get(), "world");
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
    send_str(a.get(), "hello");
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

// ---- names in the filesystem ---------------------------------------------

TEST(UnixPath, BindCreatesASocketFileThatOpenCannotOpen) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("s.sock"));
    const auto addr = sock::unix_path(guard.name());
    auto s = unix_socket();
    ASSERT_EQ(::bind(s.get(), addr.get(), addr.len), 0);
    struct stat st {};
    ASSERT_EQ(::lstat(guard.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    errno = 0;
    EXPECT_EQ(::open(guard.c_str(), O_RDWR), -1);
    EXPECT_EQ(errno, ENXIO);
}

TEST(UnixPath, StalePathGivesEaddrinuseUntilUnlinked) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("stale.sock"));
    const auto addr = sock::unix_path(guard.name());
    {
        auto first = unix_socket();
        ASSERT_EQ(::bind(first.get(), addr.get(), addr.len), 0);
    }  // closed without unlink(): the file stays
    EXPECT_TRUE(exists(guard.name()));
    auto second = unix_socket();
    errno = 0;
    EXPECT_EQ(::bind(second.get(), addr.get(), addr.len), -1);
    EXPECT_EQ(errno, EADDRINUSE);
    auto client = unix_socket();
    errno = 0;
    EXPECT_EQ(::connect(client.get(), addr.get(), addr.len), -1);
    EXPECT_EQ(errno, ECONNREFUSED);  // a file, but nobody listening
    ASSERT_EQ(::unlink(guard.c_str()), 0);
    EXPECT_EQ(::bind(second.get(), addr.get(), addr.len), 0);
}

TEST(UnixPath, ConnectToAMissingPathIsEnoent) {
    const auto addr = sock::unix_path(kit::unique_temp_path("missing.sock"));
    auto s = unix_socket();
    errno = 0;
    EXPECT_EQ(::connect(s.get(), addr.get(), addr.len), -1);
    EXPECT_EQ(errno, ENOENT);
}

TEST(UnixPath, A107BytePathFitsSunPath) {
    static_assert(sizeof(sockaddr_un::sun_path) == 108);
    std::string path = kit::unique_temp_path("");
    ASSERT_LT(path.size(), 107u);
    path.append(107 - path.size(), 'x');
    auto guard = kit::unlink_guard(path);
    const auto addr = sock::unix_path(path);
    auto s = unix_socket();
    ASSERT_EQ(::bind(s.get(), addr.get(), addr.len), 0);
    EXPECT_TRUE(exists(path));
    // The chapter's helper refuses 108: portable code leaves room for the NUL.
    EXPECT_THROW((void)sock::unix_path(path + "y"), kit::UsageError);
}

TEST(UnixPath, A108BytePathWithoutItsNulIsAcceptedAndComesBackUnterminated) {
    // man 7 unix, BUGS: Linux appends the NUL itself, so all 108 bytes may be path.
    std::string path = kit::unique_temp_path("");
    ASSERT_LT(path.size(), sizeof(sockaddr_un::sun_path));
    path.append(sizeof(sockaddr_un::sun_path) - path.size(), 'x');  // 108 bytes, no NUL
    auto guard = kit::unlink_guard(path);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    auto s = unix_socket();
    ASSERT_EQ(::bind(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_TRUE(exists(path));
    sockaddr_storage back{};
    socklen_t len = sizeof back;
    ASSERT_EQ(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&back), &len), 0);
    // One byte more than a sockaddr_un holds: a caller passing sizeof(sockaddr_un)
    // gets the name cut off without its NUL.
    EXPECT_EQ(len, sizeof(sockaddr_un) + 1);
}

TEST(UnixPath, AnAddressLongerThanSockaddrUnIsEinval) {
    sockaddr_storage big{};  // room for more than sockaddr_un, to try a longer length
    auto* un = reinterpret_cast<sockaddr_un*>(&big);
    un->sun_family = AF_UNIX;
    std::memset(un->sun_path, 'x', sizeof big - offsetof(sockaddr_un, sun_path));
    auto s = unix_socket();
    errno = 0;
    EXPECT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&big), sizeof(sockaddr_un) + 1), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(UnixPath, ListeningSocketIsListedInProcNetUnix) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("listed.sock"));
    const auto addr = sock::unix_path(guard.name());
    auto s = unix_socket();
    ASSERT_EQ(::bind(s.get(), addr.get(), addr.len), 0);
    ASSERT_EQ(::listen(s.get(), 1), 0);
    const auto table = proc_net_unix();
    const auto at = table.find(" " + guard.name() + "\n");
    ASSERT_NE(at, std::string::npos);
    const auto line = table.substr(table.rfind('\n', at) + 1, at - table.rfind('\n', at));
    EXPECT_NE(line.find(" 00010000 0001 01 "), std::string::npos)
        << line;  // __SO_ACCEPTCON, STREAM, listening
}

TEST(UnixStreamPrograms, ClientGetsTheServersReplyAndTheServerRemovesItsPath) {
    Background server = socktest::start({prog("unix_stream_server")});
    const std::string first = socktest::read_line(server.out.get());
    ASSERT_EQ(first.rfind("listening on ", 0), 0u) << first;
    const std::string path = socktest::last_word(first);
    auto guard = kit::unlink_guard(path);  // in case the server dies early
    EXPECT_TRUE(exists(path));
    auto client = kit::test::run_program({prog("unix_stream_client"), path, "hello"});
    EXPECT_TRUE(client.status.ok()) << client.err;
    EXPECT_EQ(client.out, "reply: HELLO\n");
    const std::string rest = socktest::read_rest(server.out.get());
    EXPECT_TRUE(server.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("client 1: echoed 5 bytes"), std::string::npos) << rest;
    EXPECT_FALSE(exists(path));
}

TEST(UnixStreamPrograms, ServerReplacesAStaleFileButRefusesALiveServersPath) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("echo.sock"));
    const auto addr = sock::unix_path(guard.name());
    {
        auto crashed = unix_socket();
        ASSERT_EQ(::bind(crashed.get(), addr.get(), addr.len), 0);
    }
    // Two clients: the second server's probe connect() counts as the first.
    Background server = socktest::start({prog("unix_stream_server"), guard.name(), "2"});
    const std::string first = socktest::read_line(server.out.get());
    EXPECT_NE(first.find("stale file, unlinking"), std::string::npos) << first;
    EXPECT_EQ(socktest::read_line(server.out.get()), "listening on " + guard.name());

    auto second = kit::test::run_program({prog("unix_stream_server"), guard.name()});
    EXPECT_TRUE(second.status.exited_with(1)) << second.status.describe();
    EXPECT_NE(second.err.find("a live server owns the path): Address already in use"),
              std::string::npos)
        << second.err;

    auto client = kit::test::run_program({prog("unix_stream_client"), guard.name(), "still mine"});
    EXPECT_EQ(client.out, "reply: STILL MINE\n");
    const std::string rest = socktest::read_rest(server.out.get());
    EXPECT_TRUE(server.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("client 1: echoed 0 bytes\nclient 2: echoed 10 bytes"), std::string::npos)
        << rest;
}

TEST(UnixStreamPrograms, ClientReportsEconnrefusedForAFileWithNoListener) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("dead.sock"));
    const auto addr = sock::unix_path(guard.name());
    auto s = unix_socket();
    ASSERT_EQ(::bind(s.get(), addr.get(), addr.len), 0);  // bound, never listen()
    auto client = kit::test::run_program({prog("unix_stream_client"), guard.name(), "hi"});
    EXPECT_TRUE(client.status.exited_with(1));
    EXPECT_EQ(client.err, "unix_stream_client: connect: Connection refused\n");
}

// ---- the abstract namespace ----------------------------------------------

TEST(AbstractNamespace, BindingCreatesNoFileAndAPeerConnectsByName) {
    const std::string name = kit::unique_name("abs");
    const auto addr = sock::unix_abstract(name);
    auto listener = unix_socket();
    ASSERT_EQ(::bind(listener.get(), addr.get(), addr.len), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    for (const auto& e : std::filesystem::directory_iterator(kit::temp_dir()))
        EXPECT_EQ(e.path().filename().string().find(name), std::string::npos) << e.path();
    EXPECT_FALSE(exists("/" + name));
    EXPECT_NE(proc_net_unix().find(" @" + name + "\n"), std::string::npos);

    auto child = kit::spawn([&] {
        auto c = unix_socket();
        kit::check(::connect(c.get(), addr.get(), addr.len), "connect");
        kit::write_all(c.get(), std::as_bytes(std::span("by name", 7)));
        return 0;
    });
    kit::Fd conn = accept_one(listener.get());
    ASSERT_TRUE(conn) << child.wait().describe();
    EXPECT_EQ(recv_once(conn.get()), "by name");
    EXPECT_TRUE(child.wait().ok());
}

TEST(AbstractNamespace, NameIsTakenWhileOpenAndFreeOnceClosed) {
    const auto addr = sock::unix_abstract(kit::unique_name("abs"));
    auto first = unix_socket();
    ASSERT_EQ(::bind(first.get(), addr.get(), addr.len), 0);
    auto second = unix_socket();
    errno = 0;
    EXPECT_EQ(::bind(second.get(), addr.get(), addr.len), -1);
    EXPECT_EQ(errno, EADDRINUSE);
    first.reset();  // no unlink(): there is nothing to unlink
    EXPECT_EQ(::bind(second.get(), addr.get(), addr.len), 0);
}

// ---- peer credentials ----------------------------------------------------

TEST(PeerCredentials, SoPeercredNamesTheConnectingProcess) {
    const auto addr = sock::unix_abstract(kit::unique_name("cred"));
    auto listener = unix_socket();
    ASSERT_EQ(::bind(listener.get(), addr.get(), addr.len), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    // Switching to another user needs CAP_SETUID and CAP_SETGID, not just uid 0.
    const bool switch_user = kit::has_capability(CAP_SETUID) && kit::has_capability(CAP_SETGID);
    auto child = kit::spawn([&] {
        if (switch_user) {
            kit::check(::setgid(65534), "setgid");
            kit::check(::setuid(65534), "setuid");
        }
        auto c = unix_socket();
        kit::check(::connect(c.get(), addr.get(), addr.len), "connect");
        char x;
        (void)::read(c.get(), &x, 1);  // stay alive until the parent has looked
        return 0;
    });
    kit::Fd conn = accept_one(listener.get());
    ASSERT_TRUE(conn) << child.wait().describe();
    ucred cred{};
    socklen_t len = sizeof cred;
    ASSERT_EQ(::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
    EXPECT_EQ(cred.pid, child.pid());
    EXPECT_EQ(cred.uid, switch_user ? 65534u : ::getuid());
    EXPECT_EQ(cred.gid, switch_user ? 65534u : ::getgid());
    conn.reset();
    EXPECT_TRUE(child.wait().ok());
}

TEST(PeerCredentials, ASocketpairReportsItsCreatorNotTheProcessHoldingTheOtherEnd) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    const pid_t creator = ::getpid();
    auto child = kit::spawn([&] {
        ucred cred{};
        socklen_t len = sizeof cred;
        kit::check(::getsockopt(theirs.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len), "getsockopt");
        return cred.pid == creator ? 0 : 1;  // taken at socketpair(), before fork()
    });
    EXPECT_TRUE(child.wait().ok());
}

TEST(PeerCredentials, ProgramPrintsTheSameIdsThePeerReports) {
    auto r = kit::test::run_program({prog("peer_credentials")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    const auto kernel = r.out.find("SO_PEERCRED: ");
    const auto self = r.out.find("peer says:   ");
    ASSERT_NE(kernel, std::string::npos);
    ASSERT_NE(self, std::string::npos);
    EXPECT_EQ(r.out.substr(kernel + 13, r.out.find('\n', kernel) - kernel - 13),
              r.out.substr(self + 13, r.out.find('\n', self) - self - 13));
}

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
        auto got = socktest::recv_fds(theirs.get(), 1);
        if (got.fds.size() != 1) return 1;
        char buf[3];
        if (::read(got.fds[0].get(), buf, 3) != 3 || std::string(buf, 3) != "234") return 2;
        return 0;  // the read moved the shared offset from 2 to 5
    });
    theirs.reset();
    kit::Fd file = anonymous_file();
    ASSERT_EQ(::lseek(file.get(), 2, SEEK_SET), 2);
    ASSERT_EQ(socktest::send_fds(mine.get(), {file.get()}), 1);
    ASSERT_TRUE(child.wait().ok()) << "child read from the wrong offset";
    EXPECT_EQ(::lseek(file.get(), 0, SEEK_CUR), 5);
    char buf[5];
    ASSERT_EQ(::read(file.get(), buf, 5), 5);
    EXPECT_EQ(std::string(buf, 5), "56789");
}

TEST(FdPassing, StatusFlagsAreSharedBecauseItIsOneOpenFileDescription) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        auto got = socktest::recv_fds(theirs.get(), 1);
        if (got.fds.size() != 1) return 1;
        int fl = kit::check(::fcntl(got.fds[0].get(), F_GETFL), "fcntl");
        kit::check(::fcntl(got.fds[0].get(), F_SETFL, fl | O_NONBLOCK), "fcntl");
        kit::write_all(theirs.get(), std::as_bytes(std::span("k", 1)));
        return 0;
    });
    auto p = kit::make_pipe();
    ASSERT_EQ(::fcntl(p.read.get(), F_GETFL) & O_NONBLOCK, 0);
    ASSERT_EQ(socktest::send_fds(mine.get(), {p.read.get()}), 1);
    ASSERT_EQ(recv_once(mine.get()), "k");
    EXPECT_NE(::fcntl(p.read.get(), F_GETFL) & O_NONBLOCK, 0);  // set by the other process
    EXPECT_TRUE(child.wait().ok());
}

TEST(FdPassing, NumberIsTheReceiversLowestFreeDescriptorNotTheSenders) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        const int lowest = kit::check(::fcntl(theirs.get(), F_DUPFD_CLOEXEC, 0), "fcntl");
        kit::check(::close(lowest), "close");
        auto got = socktest::recv_fds(theirs.get(), 1);
        if (got.fds.size() != 1) return 1;
        return got.fds[0].get() == lowest ? 0 : 2;
    });
    auto p = kit::make_pipe();
    kit::Fd high(
        kit::check(::fcntl(p.read.get(), F_DUPFD_CLOEXEC, 200), "fcntl"));  // number >= 200
    ASSERT_GE(high.get(), 200);
    ASSERT_EQ(socktest::send_fds(mine.get(), {high.get()}), 1);
    EXPECT_TRUE(child.wait().ok());
}

TEST(FdPassing, APassedPipeEndAndMemfdWorkInTheReceiver) {
    auto [mine, theirs] = socket_pair(SOCK_STREAM);
    auto child = kit::spawn([&] {
        auto got = socktest::recv_fds(theirs.get(), 2);
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
    ASSERT_EQ(socktest::send_fds(mine.get(), {p.read.get(), mem.get()}), 1);
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
    const std::size_t before = socktest::open_fd_count();
    ASSERT_EQ(
        socktest::send_fds(a.get(), {p.read.get(), p.write.get(), p.read.get(), p.write.get()}), 1);
    {
        // CMSG_SPACE(sizeof(int)) is padded to 8-byte alignment: room for 2 ints.
        auto got = socktest::recv_fds(b.get(), 1);
        EXPECT_TRUE(got.flags & MSG_CTRUNC);
        EXPECT_EQ(got.fds.size(), (CMSG_SPACE(sizeof(int)) - CMSG_LEN(0)) / sizeof(int));
        EXPECT_LT(got.fds.size(), 4u);
        EXPECT_EQ(socktest::open_fd_count(),
                  before + got.fds.size());  // the rest were closed for us
    }
    EXPECT_EQ(socktest::open_fd_count(), before);
}

TEST(FdPassing, MoreThanScmMaxFd253FdsIsEinval) {
    auto [a, b] = socket_pair(SOCK_STREAM);
    auto p = kit::make_pipe();
    errno = 0;
    EXPECT_EQ(socktest::send_fds(a.get(), std::vector<int>(254, p.read.get())), -1);
    EXPECT_EQ(errno, EINVAL);
    ASSERT_EQ(socktest::send_fds(a.get(), std::vector<int>(253, p.read.get())), 1);
    auto got = socktest::recv_fds(b.get(), 253);
    EXPECT_EQ(got.fds.size(), 253u);
}

TEST(FdPassing, ProgramsPassPipeFileAndMemfdBetweenUnrelatedProcesses) {
    Background receiver = socktest::start({prog("fd_pass_recv")});
    const std::string first = socktest::read_line(receiver.out.get());
    ASSERT_EQ(first.rfind("listening on ", 0), 0u) << first;
    auto guard = kit::unlink_guard(socktest::last_word(first));
    auto sender = kit::test::run_program({prog("fd_pass_send"), guard.name()});
    EXPECT_TRUE(sender.status.ok()) << sender.err;
    EXPECT_NE(sender.out.find("my file offset is now 5 (was 2)"), std::string::npos) << sender.out;
    const std::string rest = socktest::read_rest(receiver.out.get());
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

TEST(NoNetwork, UnixSocketsWorkWhereTcpToLoopbackIsUnreachable) {
    auto child = kit::spawn([&] {
        if (::unshare(CLONE_NEWNET) == -1) return 3;  // lo exists but is down in a new namespace
        auto [a, b] = socket_pair(SOCK_STREAM);
        if (::write(a.get(), "ok", 2) != 2) return 10;
        char buf[2];
        if (::read(b.get(), buf, 2) != 2) return 11;
        const auto addr = sock::inet4("127.0.0.1", 9);
        kit::Fd tcp(kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        errno = 0;
        if (::connect(tcp.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            return 12;
        return errno == ENETUNREACH ? 0 : 13;
    });
    auto st = child.wait();
    if (st.exited_with(3)) GTEST_SKIP() << "unshare(CLONE_NEWNET) not permitted here";
    EXPECT_TRUE(st.ok()) << st.describe()
                         << " (10/11: socketpair failed, 12/13: TCP did not fail with ENETUNREACH)";
}

TEST(NoNetwork, ProgramShowsUnixSocketsWorkWhereTcpIsUnreachable) {
    auto r = kit::test::run_program({prog("no_network_needed")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    if (r.out.find("cannot show it here") != std::string::npos) GTEST_SKIP() << r.out;
    EXPECT_NE(r.out.find("socketpair(AF_UNIX): read \"still works\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("TCP connect(127.0.0.1): ENETUNREACH"), std::string::npos) << r.out;
}
