// Tests of chapter 07 for Unix-domain sockets, part 2 (chapter07.*): names in
// the filesystem, the server and client programs, abstract names, peer credentials.
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

// ---- names in the filesystem ---------------------------------------------

TEST(UnixPath, BindCreatesASocketFileThatOpenCannotOpen) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("s.sock"));
    const auto addr = ch07::unix_path(guard.name());
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
    const auto addr = ch07::unix_path(guard.name());
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
    const auto addr = ch07::unix_path(kit::unique_temp_path("missing.sock"));
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
    const auto addr = ch07::unix_path(path);
    auto s = unix_socket();
    ASSERT_EQ(::bind(s.get(), addr.get(), addr.len), 0);
    EXPECT_TRUE(exists(path));
    // The chapter's helper refuses 108: portable code leaves room for the NUL.
    EXPECT_THROW((void)ch07::unix_path(path + "y"), kit::UsageError);
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
    const auto addr = ch07::unix_path(guard.name());
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
    kit::test::Running server = start_program("unix_stream_server");
    const std::string first = read_line(server.output.get());
    ASSERT_EQ(first.rfind("listening on ", 0), 0u) << first;
    const std::string path = last_word(first);
    auto guard = kit::unlink_guard(path);  // in case the server dies early
    EXPECT_TRUE(exists(path));
    auto client = run_program({program_path("unix_stream_client"), path, "hello"});
    EXPECT_TRUE(client.status.ok()) << client.err;
    EXPECT_EQ(client.out, "reply: HELLO\n");
    const std::string rest = read_rest(server.output.get());
    EXPECT_TRUE(server.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("client 1: echoed 5 bytes"), std::string::npos) << rest;
    EXPECT_FALSE(exists(path));
}

TEST(UnixStreamPrograms, ServerReplacesAStaleSocketButRefusesALiveServersPath) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("echo.sock"));
    const auto addr = ch07::unix_path(guard.name());
    {
        auto crashed = unix_socket();
        ASSERT_EQ(::bind(crashed.get(), addr.get(), addr.len), 0);
    }  // closed without unlink(): a stale socket file, as a crashed server leaves it
    // Two clients: the second server's probe connect() counts as the first.
    kit::test::Running server = start_program("unix_stream_server", {guard.name(), "2"});
    const std::string first = read_line(server.output.get());
    EXPECT_EQ(first,
              "bind: EADDRINUSE, but nobody listens (ECONNREFUSED): stale socket, unlinking");
    EXPECT_EQ(read_line(server.output.get()), "listening on " + guard.name());

    auto second = run_program({program_path("unix_stream_server"), guard.name()});
    EXPECT_TRUE(second.status.exited_with(1)) << second.status.describe();
    EXPECT_EQ(second.err, "unix_stream_server: bind: a live server listens on " + guard.name() +
                              ": Address already in use\n")
        << "a live server's path is refused with EADDRINUSE";
    EXPECT_EQ(second.out, "");

    auto client = run_program({program_path("unix_stream_client"), guard.name(), "still mine"});
    EXPECT_EQ(client.out, "reply: STILL MINE\n");
    const std::string rest = read_rest(server.output.get());
    EXPECT_TRUE(server.child.wait().ok()) << rest;
    EXPECT_NE(rest.find("client 1: echoed 0 bytes\nclient 2: echoed 10 bytes"), std::string::npos)
        << rest;
}

TEST(UnixStreamPrograms, ServerRefusesToRemoveARegularFileAtItsPath) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("precious.txt"));
    {
        kit::Fd f(kit::check(::open(guard.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600),
                             "open"));
        kit::write_all(f.get(), std::as_bytes(std::span("keep me", 7)));
    }
    auto r = run_program({program_path("unix_stream_server"), guard.name()});
    EXPECT_TRUE(r.status.exited_with(1)) << r.status.describe();
    EXPECT_EQ(r.err, "unix_stream_server: bind: " + guard.name() +
                         " is not a socket, refusing to remove it: File exists\n")
        << "anything but a socket is refused with EEXIST";
    struct stat st {};
    ASSERT_EQ(::lstat(guard.c_str(), &st), 0) << "the file is gone";
    EXPECT_TRUE(S_ISREG(st.st_mode));
    char buf[16];
    kit::Fd f(kit::check(::open(guard.c_str(), O_RDONLY | O_CLOEXEC), "open"));
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(::read(f.get(), buf, sizeof buf))),
              "keep me");
}

TEST(UnixStreamPrograms, ServerRefusesASymlinkEvenToAStaleSocket) {
    auto target = kit::unlink_guard(kit::unique_temp_path("target.sock"));
    auto link = kit::unlink_guard(kit::unique_temp_path("link.sock"));
    const auto addr = ch07::unix_path(target.name());
    {
        auto crashed = unix_socket();
        ASSERT_EQ(::bind(crashed.get(), addr.get(), addr.len), 0);
    }
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    auto r = run_program({program_path("unix_stream_server"), link.name()});
    EXPECT_TRUE(r.status.exited_with(1)) << r.status.describe();
    EXPECT_NE(r.err.find("is not a socket, refusing to remove it"), std::string::npos) << r.err;
    struct stat st {};
    EXPECT_EQ(::lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_TRUE(exists(target.name()));
}

TEST(UnixStreamPrograms, ClientReportsEconnrefusedForAFileWithNoListener) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("dead.sock"));
    const auto addr = ch07::unix_path(guard.name());
    auto s = unix_socket();
    ASSERT_EQ(::bind(s.get(), addr.get(), addr.len), 0);  // bound, never listen()
    auto client = run_program({program_path("unix_stream_client"), guard.name(), "hi"});
    EXPECT_TRUE(client.status.exited_with(1));
    EXPECT_EQ(client.err, "unix_stream_client: connect: Connection refused\n");
}

// ---- the abstract namespace ----------------------------------------------

TEST(AbstractNamespace, BindingCreatesNoFileAndAPeerConnectsByName) {
    const std::string name = kit::unique_name("abs");
    const auto addr = ch07::unix_abstract(name);
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
    const auto addr = ch07::unix_abstract(kit::unique_name("abs"));
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
    const auto addr = ch07::unix_abstract(kit::unique_name("cred"));
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
    auto r = run_program({program_path("peer_credentials")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    const auto kernel = r.out.find("SO_PEERCRED: ");
    const auto self = r.out.find("peer says:   ");
    ASSERT_NE(kernel, std::string::npos);
    ASSERT_NE(self, std::string::npos);
    EXPECT_EQ(r.out.substr(kernel + 13, r.out.find('\n', kernel) - kernel - 13),
              r.out.substr(self + 13, r.out.find('\n', self) - self - 13));
}
