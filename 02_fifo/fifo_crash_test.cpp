// Crash lab (进程崩溃) for FIFOs: one side is killed with SIGKILL at the step
// that matters, stopped there by a handshake or seen blocked in the call
// (never by sleeping); the test asserts what the survivor sees and what is
// left in the file system, then removes it. Also: the chapter's programs
// that make a FIFO and wait (fifo_server, fifo_reader, fifo_writer,
// fifo_client) remove it when stopped by SIGINT or SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "fifo_request.hpp"
#include "fifo_test_util.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"

using ch02::Request;
using ch02::test::blocked_in_fifo_open;

namespace {

bool is_fifo(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

bool is_gone(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == -1 && errno == ENOENT;
}

// Reads until EOF (bounded); returns the bytes, and whether EOF was seen.
std::pair<std::string, bool> read_to_eof(int fd) {
    std::string out;
    char buf[256];
    while (kit::wait_readable(fd)) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == -1 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return {out, n == 0};
        out.append(buf, static_cast<std::size_t>(n));
    }
    return {out, false};
}

}  // namespace

TEST(FifoCrash, OpenerKilledWhileBlockedInOpenLeavesOnlyTheName) {
    // fifo_reader makes the FIFO and waits in open() for a writer; SIGKILL
    // gives it no chance to remove the name it made.
    const std::string path = kit::unique_temp_path("opener.fifo");
    auto guard = kit::unlink_guard(path);  // recovery, also if the test fails
    auto opener = kit::test::start_program({kit::test::program_path("fifo_reader"), path});
    ASSERT_TRUE(blocked_in_fifo_open(opener.child.pid())) << "the opener never blocked in open()";
    ASSERT_EQ(::kill(opener.child.pid(), SIGKILL), 0);
    EXPECT_TRUE(opener.child.wait().killed_by(SIGKILL));
    // Left behind: the name, and nothing else — no reader waits on it, so a
    // non-blocking writer is refused with ENXIO.
    EXPECT_TRUE(is_fifo(path)) << "the FIFO's name is gone";
    errno = 0;
    EXPECT_EQ(::open(path.c_str(), O_WRONLY | O_NONBLOCK), -1);
    EXPECT_EQ(errno, ENXIO);
    ASSERT_EQ(::unlink(path.c_str()), 0);  // recovery: remove the name
    EXPECT_TRUE(is_gone(path));
}

TEST(FifoCrash, WriterKilledMidMessageLeavesTheBytesThenEofAndTheName) {
    auto name = kit::unlink_guard(kit::unique_temp_path("writer.fifo"));
    ASSERT_EQ(::mkfifo(name.c_str(), 0600), 0);
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    auto step = kit::make_pipe();
    auto hold = kit::make_pipe();
    auto writer = kit::spawn([&] {
        step.read.reset();
        hold.write.reset();
        kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
        kit::write_all(w.get(), std::as_bytes(std::span("hello, ", 7)));
        kit::write_all(step.write.get(), std::as_bytes(std::span("!", 1)));
        (void)kit::wait_readable(hold.read.get());  // never written: killed here
        kit::write_all(w.get(), std::as_bytes(std::span("world", 5)));
        return 0;
    });
    step.write.reset();
    hold.read.reset();
    ASSERT_TRUE(kit::wait_readable(step.read.get())) << "the writer never reached the step";
    ASSERT_EQ(::kill(writer.pid(), SIGKILL), 0);
    EXPECT_TRUE(writer.wait().killed_by(SIGKILL));
    auto [got, eof] = read_to_eof(r.get());
    EXPECT_EQ(got, "hello, ");
    EXPECT_TRUE(eof) << "no EOF after the writer died";
    EXPECT_TRUE(is_fifo(name.name()));  // the name stays; the guard removes it
}

TEST(FifoCrash, ServerKilledBySigkillLeavesItsFifoPath) {
    const std::string path = kit::unique_temp_path("killed.srv");
    auto guard = kit::unlink_guard(path);  // recovery, also if the test fails
    auto server = kit::test::start_program({kit::test::program_path("fifo_server"), path});
    ASSERT_TRUE(server.wait_for("server: ready on " + path)) << server.seen;
    ASSERT_EQ(::kill(server.child.pid(), SIGKILL), 0);
    EXPECT_TRUE(server.child.wait().killed_by(SIGKILL));
    // SIGKILL runs no cleanup: the well-known name is still there, and a
    // client finds nobody behind it (ENXIO for a non-blocking open).
    EXPECT_TRUE(is_fifo(path)) << "SIGKILL left no FIFO behind";
    errno = 0;
    EXPECT_EQ(::open(path.c_str(), O_WRONLY | O_NONBLOCK), -1);
    EXPECT_EQ(errno, ENXIO);
    // Recovery: a restarted server takes the old name (its mkfifo fails with
    // EEXIST, which it accepts) and serves again; stopped by SIGTERM it removes it.
    auto again = kit::test::start_program({kit::test::program_path("fifo_server"), path});
    ASSERT_TRUE(again.wait_for("server: ready on " + path))
        << "the restarted server refused the existing FIFO (mkfifo EEXIST): " << again.seen;
    auto r = kit::test::run_program({kit::test::program_path("fifo_client"), path, "back"});
    EXPECT_NE(r.out.find("-> \"BACK\""), std::string::npos) << r.out << r.err;
    ASSERT_EQ(::kill(again.child.pid(), SIGTERM), 0);
    EXPECT_TRUE(again.child.wait().ok());
    EXPECT_TRUE(is_gone(path));
}

TEST(FifoCrash, ServerStoppedBySigintOrSigtermRemovesItsFifo) {
    for (int sig : {SIGINT, SIGTERM}) {
        SCOPED_TRACE(sigabbrev_np(sig));
        const std::string path = kit::unique_temp_path("stopped.srv");
        auto guard = kit::unlink_guard(path);
        auto server = kit::test::start_program({kit::test::program_path("fifo_server"), path});
        ASSERT_TRUE(server.wait_for("server: ready on " + path)) << server.seen;
        ASSERT_TRUE(is_fifo(path));
        ASSERT_EQ(::kill(server.child.pid(), sig), 0);
        auto st = server.child.wait();
        EXPECT_TRUE(st.ok()) << st.describe();  // a clean exit, status 0
        EXPECT_TRUE(is_gone(path)) << "the server left its FIFO behind";
        const std::string said = std::string("server: SIG") + sigabbrev_np(sig) + ", removing";
        EXPECT_TRUE(server.wait_for(said)) << server.seen;
    }
}

TEST(FifoCrash, NameUnlinkedAfterBothOpenedLeavesNothingToLeak) {
    auto name = kit::unlink_guard(kit::unique_temp_path("unlinked.fifo"));
    ASSERT_EQ(::mkfifo(name.c_str(), 0600), 0);
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    auto step = kit::make_pipe();
    auto hold = kit::make_pipe();
    auto park = kit::make_pipe();  // never written: the writer is killed waiting here
    auto writer = kit::spawn([&] {
        step.read.reset();
        hold.write.reset();
        park.write.reset();
        kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
        kit::write_all(step.write.get(), std::as_bytes(std::span("o", 1)));  // opened
        if (!kit::wait_readable(hold.read.get())) return 1;                  // name removed
        kit::write_all(w.get(), std::as_bytes(std::span("still here", 10)));
        kit::write_all(step.write.get(), std::as_bytes(std::span("w", 1)));  // written
        (void)kit::wait_readable(park.read.get());
        return 0;
    });
    step.write.reset();
    hold.read.reset();
    char c = 0;
    ASSERT_TRUE(kit::wait_readable(step.read.get()));
    ASSERT_EQ(::read(step.read.get(), &c, 1), 1);
    ASSERT_EQ(::unlink(name.c_str()), 0);  // both ends are open: remove the name now
    EXPECT_TRUE(is_gone(name.name()));
    kit::write_all(hold.write.get(), std::as_bytes(std::span("!", 1)));
    ASSERT_TRUE(kit::wait_readable(step.read.get()));
    ASSERT_EQ(::read(step.read.get(), &c, 1), 1);
    ASSERT_EQ(::kill(writer.pid(), SIGKILL), 0);  // killed after its write
    EXPECT_TRUE(writer.wait().killed_by(SIGKILL));
    // The open FIFO still carried the bytes, then EOF; nothing was left in the
    // file system at any point after the unlink.
    auto [got, eof] = read_to_eof(r.get());
    EXPECT_EQ(got, "still here");
    EXPECT_TRUE(eof);
    EXPECT_TRUE(is_gone(name.name()));
}

TEST(FifoCrash, ReaderOrWriterStoppedWhileWaitingInOpenRemovesTheNameItMade) {
    for (auto [program, sig] :
         {std::pair{"fifo_reader", SIGINT}, std::pair{"fifo_writer", SIGTERM}}) {
        SCOPED_TRACE(program);
        const std::string path = kit::unique_temp_path("waiting.fifo");
        auto guard = kit::unlink_guard(path);
        auto p = kit::test::start_program({kit::test::program_path(program), path});
        // It made the name and waits in open() for the other side.
        ASSERT_TRUE(blocked_in_fifo_open(p.child.pid())) << "never blocked in open()";
        EXPECT_TRUE(is_fifo(path));
        ASSERT_EQ(::kill(p.child.pid(), sig), 0);
        auto st = p.child.wait();
        EXPECT_TRUE(st.exited_with(128 + sig)) << st.describe();
        EXPECT_TRUE(is_gone(path)) << "stopped by SIGINT/SIGTERM, it left the FIFO it made";
        EXPECT_TRUE(p.wait_for(std::string(": SIG") + sigabbrev_np(sig) + ", removed " + path))
            << p.seen;
    }
    // A name it did not make is not its to remove.
    const std::string path = kit::unique_temp_path("theirs.fifo");
    auto guard = kit::unlink_guard(path);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    auto p = kit::test::start_program({kit::test::program_path("fifo_reader"), path});
    ASSERT_TRUE(blocked_in_fifo_open(p.child.pid())) << "never blocked in open()";
    ASSERT_EQ(::kill(p.child.pid(), SIGINT), 0);
    EXPECT_TRUE(p.child.wait().exited_with(128 + SIGINT));
    EXPECT_TRUE(is_fifo(path));
}

TEST(FifoCrash, ClientStoppedBySigintWhileWaitingForItsReplyRemovesItsReplyFifo) {
    // This test plays a server that reads the request and never answers.
    auto srv = kit::unlink_guard(kit::unique_temp_path("silent.srv"));
    ASSERT_EQ(::mkfifo(srv.c_str(), 0600), 0);
    kit::Fd in(kit::check(::open(srv.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    auto client =
        kit::test::start_program({kit::test::program_path("fifo_client"), srv.name(), "hello?"});
    Request req{};
    ASSERT_TRUE(kit::wait_readable(in.get())) << "no request came";
    ASSERT_EQ(kit::read_full(in.get(), std::as_writable_bytes(std::span(&req, 1))), sizeof req);
    req.reply_path[sizeof req.reply_path - 1] = '\0';
    const std::string reply = req.reply_path;
    auto reply_guard = kit::unlink_guard(reply);
    EXPECT_TRUE(is_fifo(reply));
    ASSERT_TRUE(kit::wait_until_blocked(client.child.pid(), "poll")) << "the client never waited";
    ASSERT_EQ(::kill(client.child.pid(), SIGINT), 0);
    auto st = client.child.wait();
    EXPECT_TRUE(st.exited_with(128 + SIGINT)) << st.describe();
    EXPECT_TRUE(is_gone(reply)) << "stopped by SIGINT, the client left its reply FIFO";
    EXPECT_TRUE(client.wait_for("SIGINT, removing " + reply)) << client.seen;
}
