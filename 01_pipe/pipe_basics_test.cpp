// Tests of chapter 01 (pipes), part 1: basics, EOF, two-way talk, pipelines,
// message boundaries, and what fork does to buffered output. Every kernel fact
// the lesson states, proved with real processes and real pipes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"

using namespace std::chrono_literals;

namespace {

// Runs a program with its stdout and stderr on a fresh pseudo-terminal (as on
// a reader's screen: stdio line-buffers a terminal) and returns what the
// terminal received, "\r\n" turned back into "\n".
std::string run_on_a_terminal(const std::string& path) {
    kit::Fd master(kit::check(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), "posix_openpt"));
    kit::check(::grantpt(master.get()), "grantpt");
    kit::check(::unlockpt(master.get()), "unlockpt");
    const std::string slave =
        kit::check(::ptsname(master.get()), static_cast<char*>(nullptr), "ptsname");
    auto child = kit::spawn([&] {
        kit::check(::setsid(), "setsid");
        kit::Fd tty(kit::check(::open(slave.c_str(), O_RDWR), "open pts"));
        kit::check(::dup2(tty.get(), STDOUT_FILENO), "dup2");
        kit::check(::dup2(tty.get(), STDERR_FILENO), "dup2");
        ::execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
        return 127;
    });
    std::string out;
    char buf[512];
    // Until the child has closed the terminal: then read() fails with EIO.
    while (kit::wait_readable(master.get())) {
        ssize_t n = ::read(master.get(), buf, sizeof buf);
        if (n == -1 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_TRUE(child.wait().ok());
    std::string text;
    for (char c : out)
        if (c != '\r') text += c;
    return text;
}

std::size_t count_of(const std::string& text, const std::string& line) {
    std::size_t n = 0;
    for (auto pos = text.find(line); pos != std::string::npos; pos = text.find(line, pos + 1)) ++n;
    return n;
}

}  // namespace

// ---- basics ---------------------------------------------------------------

TEST(PipeBasics, ParentToChildDeliversTheBytesThenEof) {
    auto r =
        kit::test::run_program({kit::test::program_path("pipe_parent_child"), "over the pipe"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("read 13 bytes: \"over the pipe\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("saw EOF"), std::string::npos) << r.out;
}

TEST(PipeBasics, PipeCreatesNoProcess) {
    // In a fresh child (which has no children of its own), pipe() leaves the
    // process still childless: waitpid(-1) reports ECHILD, not a child.
    auto c = kit::spawn([] {
        int fds[2];
        kit::check(::pipe(fds), "pipe");
        if (::waitpid(-1, nullptr, WNOHANG) != -1 || errno != ECHILD) return 1;
        // Both ends belong to the calling process.
        if (::fcntl(fds[0], F_GETFD) == -1 || ::fcntl(fds[1], F_GETFD) == -1) return 2;
        return 0;
    });
    EXPECT_TRUE(c.wait().ok());
}

TEST(PipeBasics, EachEndIsOneWayWritingTheReadEndFailsWithEbadf) {
    auto p = kit::make_pipe();
    errno = 0;
    EXPECT_EQ(::write(p.read.get(), "x", 1), -1);
    EXPECT_EQ(errno, EBADF);
    char c;
    errno = 0;
    EXPECT_EQ(::read(p.write.get(), &c, 1), -1);
    EXPECT_EQ(errno, EBADF);
    EXPECT_EQ(::fcntl(p.read.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(::fcntl(p.write.get(), F_GETFL) & O_ACCMODE, O_WRONLY);
}

TEST(PipeBasics, LseekFailsWithEspipe) {
    auto p = kit::make_pipe();
    errno = 0;
    EXPECT_EQ(::lseek(p.read.get(), 0, SEEK_SET), -1);
    EXPECT_EQ(errno, ESPIPE);
    errno = 0;
    EXPECT_EQ(::lseek(p.write.get(), 0, SEEK_CUR), -1);
    EXPECT_EQ(errno, ESPIPE);
}

TEST(PipeBasics, PipeIsAFifoObjectInKernelMemory) {
    auto p = kit::make_pipe();
    struct stat st {};
    ASSERT_EQ(::fstat(p.read.get(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    // pipefs: no path, no directory entry anywhere.
    char target[256] = {};
    auto link = "/proc/self/fd/" + std::to_string(p.read.get());
    ASSERT_GT(::readlink(link.c_str(), target, sizeof target - 1), 0);
    EXPECT_EQ(std::string(target).rfind("pipe:[", 0), 0u) << target;
}

// True if some mounted file system has device number `dev`
// (/proc/self/mountinfo, third field "major:minor"): only then can a
// directory entry anywhere lead to an inode of that device.
static bool some_mount_has_device(dev_t dev) {
    std::ifstream in("/proc/self/mountinfo");
    const std::string want = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno;
        fields >> id >> parent >> devno;
        if (devno == want) return true;
    }
    return false;
}

TEST(PipeBasics, Pipe2GivesTwoDescriptorsOfAnObjectWithNoNameInAnyDirectory) {
    // pipe2(O_CLOEXEC), the call behind Go's os.Pipe on Linux.
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    kit::Fd r(fds[0]), w(fds[1]);
    EXPECT_NE(::fcntl(r.get(), F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_NE(::fcntl(w.get(), F_GETFD) & FD_CLOEXEC, 0);
    struct stat rs {
    }, ws{};
    ASSERT_EQ(::fstat(r.get(), &rs), 0);
    ASSERT_EQ(::fstat(w.get(), &ws), 0);
    EXPECT_TRUE(S_ISFIFO(rs.st_mode));
    EXPECT_EQ(rs.st_ino, ws.st_ino);  // two descriptors, one object
    EXPECT_EQ(rs.st_dev, ws.st_dev);
    char target[256] = {};
    auto link = "/proc/self/fd/" + std::to_string(r.get());
    ASSERT_GT(::readlink(link.c_str(), target, sizeof target - 1), 0);
    EXPECT_EQ(std::string(target), "pipe:[" + std::to_string(rs.st_ino) + "]");  // not a path
    // Its file system (pipefs) is mounted nowhere, so no directory holds it;
    // a FIFO made by mkfifo lives on a mounted one.
    EXPECT_FALSE(some_mount_has_device(rs.st_dev)) << "pipefs is mounted somewhere";
    auto fifo = kit::unlink_guard(kit::unique_temp_path("mounted.fifo"));
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    struct stat fs {};
    ASSERT_EQ(::stat(fifo.c_str(), &fs), 0);
    EXPECT_TRUE(some_mount_has_device(fs.st_dev));
}

// ---- EOF ------------------------------------------------------------------

TEST(PipeEof, ReaderThatKeepsItsOwnWriteEndNeverSeesEof) {
    // This process is the reader and still holds a write end: nobody else
    // writes, yet read() would block forever. The other writer has exited
    // before we look, so a pipe that gave EOF would be readable at once: the
    // bounded wait can only pass spuriously on a slow machine, never fail.
    auto p = kit::make_pipe();
    auto writer = kit::spawn([&] {
        p.read.reset();
        kit::write_all(p.write.get(), std::as_bytes(std::span("data!", 5)));
    });
    ASSERT_TRUE(writer.wait().ok());  // the other writer is gone entirely
    std::array<std::byte, 5> buf{};
    ASSERT_EQ(kit::read_full(p.read.get(), buf), 5u);
    EXPECT_FALSE(kit::wait_readable(p.read.get(), 300ms)) << "EOF although a write end is open";
    p.write.reset();  // the fix: close it
    ASSERT_TRUE(kit::wait_readable(p.read.get(), 2s));
    char c;
    EXPECT_EQ(::read(p.read.get(), &c, 1), 0);
}

TEST(PipeEof, EofOnlyWhenEveryWriteEndIsClosed) {
    // Two write ends: the child's copy and the parent's. The child writes and
    // exits (its copy is closed); the parent's copy alone keeps EOF away.
    auto p = kit::make_pipe();
    auto child = kit::spawn([&] {
        p.read.reset();
        kit::write_all(p.write.get(), std::as_bytes(std::span("x", 1)));
    });
    ASSERT_TRUE(child.wait().ok());
    char c;
    ASSERT_EQ(::read(p.read.get(), &c, 1), 1);
    EXPECT_FALSE(kit::wait_readable(p.read.get(), 200ms))
        << "EOF while the parent holds a write end";
    p.write.reset();
    ASSERT_TRUE(kit::wait_readable(p.read.get(), 2s));
    EXPECT_EQ(::read(p.read.get(), &c, 1), 0);
}

TEST(PipeEof, ReadWithNoWriterReturnsZero) {
    auto p = kit::make_pipe();
    p.write.reset();
    char c;
    EXPECT_EQ(::read(p.read.get(), &c, 1), 0);
    EXPECT_EQ(::read(p.read.get(), &c, 1), 0);  // and again: EOF is not consumed
}

TEST(PipeEof, BrokenProgramHangsUntilItClosesItsWriteEndFixedProgramDoesNot) {
    auto broken = kit::test::run_program({kit::test::program_path("pipe_eof_broken")});
    ASSERT_TRUE(broken.status.ok()) << broken.status.describe() << broken.out << broken.err;
    EXPECT_NE(broken.out.find("no EOF within 500 ms"), std::string::npos) << broken.out;
    EXPECT_NE(broken.out.find("closed my write end, read() returned 0"), std::string::npos);
    auto fixed = kit::test::run_program({kit::test::program_path("pipe_eof_fixed")});
    ASSERT_TRUE(fixed.status.ok()) << fixed.status.describe() << fixed.out;
    EXPECT_EQ(fixed.out.find("no EOF"), std::string::npos) << fixed.out;
    EXPECT_NE(fixed.out.find("read() returned 0: EOF"), std::string::npos);
}

// ---- two-way --------------------------------------------------------------

TEST(PipeTwoWay, OnePipeUsedBothWaysHandsYouBackYourOwnBytes) {
    // Parent and child both keep both ends, hoping to talk both ways. The
    // parent "sends" a request and then reads for the reply: it gets its own
    // request back, and the child, reading afterwards, finds nothing.
    auto p = kit::make_pipe(O_NONBLOCK | O_CLOEXEC);
    auto turn = kit::make_pipe();  // the parent tells the child: your turn to read
    auto child = kit::spawn([&] {
        turn.write.reset();
        if (!kit::wait_readable(turn.read.get())) return 1;
        char c;
        if (::read(p.read.get(), &c, 1) != -1 || errno != EAGAIN) return 2;  // nothing for it
        return 0;
    });
    turn.read.reset();
    const std::string req = "request";
    kit::write_all(p.write.get(), std::as_bytes(std::span(req)));
    std::string got(64, '\0');
    ssize_t n = ::read(p.read.get(), got.data(), got.size());
    ASSERT_EQ(n, ssize_t(req.size()));
    EXPECT_EQ(got.substr(0, req.size()), req);  // the "reply" is our own request
    kit::write_all(turn.write.get(), std::as_bytes(std::span("!", 1)));
    EXPECT_TRUE(child.wait().ok());
}

TEST(PipeTwoWay, RequestReplyWorksWithTwoPipes) {
    auto r = kit::test::run_program({kit::test::program_path("pipe_two_way"), "ping", "hello"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out,
              "parent sent \"ping\", child replied \"PING\"\n"
              "parent sent \"hello\", child replied \"HELLO\"\n");
}

// ---- pipeline -------------------------------------------------------------

TEST(PipePipeline, OutputMatchesTheShell) {
    auto mine = kit::test::run_program(
        {kit::test::program_path("pipe_pipeline"), "seq", "1", "2000", "--", "sort", "-r"});
    auto shell = kit::test::run_program({"/bin/sh", "-c", "seq 1 2000 | sort -r"});
    ASSERT_TRUE(mine.status.ok()) << mine.status.describe() << mine.err;
    ASSERT_TRUE(shell.status.ok());
    EXPECT_EQ(mine.out, shell.out);
    EXPECT_EQ(std::count(mine.out.begin(), mine.out.end(), '\n'), 2000);
}

TEST(PipePipeline, BothCommandsAreChildrenOfTheSameParent) {
    // Each side prints its parent's pid ($PPID); the program prints its own.
    auto r = kit::test::run_program({kit::test::program_path("pipe_pipeline"), "sh", "-c",
                                     "echo $PPID", "--", "sh", "-c", "cat && echo $PPID"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.err, m, std::regex("parent ([0-9]+) forked")));
    const std::string parent = m[1];
    EXPECT_EQ(r.out, parent + "\n" + parent + "\n");
}

// ---- boundaries -----------------------------------------------------------

TEST(PipeBoundaries, TwoWritesArriveAsOneRead) {
    auto p = kit::make_pipe();
    auto w = kit::spawn([&] {
        p.read.reset();
        kit::check(::write(p.write.get(), "hello", 5), "write");
        kit::check(::write(p.write.get(), "world", 5), "write");
    });
    ASSERT_TRUE(w.wait().ok());
    char buf[64];
    ssize_t n = ::read(p.read.get(), buf, sizeof buf);
    ASSERT_EQ(n, 10);
    EXPECT_EQ(std::string(buf, 10), "helloworld");
}

TEST(PipeBoundaries, LengthPrefixRestoresTheMessages) {
    auto r = kit::test::run_program({kit::test::program_path("pipe_framing")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("1 read of 10 bytes: \"helloworld\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("framed: \"hello\" \"world\"\n"), std::string::npos) << r.out;
}

// ---- fork and buffered output ---------------------------------------------

TEST(ForkBuffer, PrintfBeforeForkPrintsTwiceIntoAPipeAndOnceOnATerminal) {
    const std::string line = "parent: about to fork\n";
    // stdout a pipe: fully buffered, the line is still in the buffer at fork()
    // and both processes flush a copy of it when they exit.
    auto piped = kit::test::run_program({kit::test::program_path("fork_buffer_broken")});
    ASSERT_TRUE(piped.status.ok()) << piped.status.describe() << piped.err;
    EXPECT_EQ(count_of(piped.out, line), 2u) << piped.out;
    EXPECT_EQ(count_of(piped.out, "child: hello\n"), 1u) << piped.out;
    // stdout a terminal: line buffered, the '\n' flushed it before fork().
    const std::string on_tty = run_on_a_terminal(kit::test::program_path("fork_buffer_broken"));
    EXPECT_EQ(count_of(on_tty, line), 1u) << on_tty;
    EXPECT_EQ(count_of(on_tty, "child: hello\n"), 1u) << on_tty;
}

TEST(ForkBuffer, FflushBeforeForkAndExitInTheChildPrintEachLineOnce) {
    const std::string expected = "parent: about to fork\nchild: hello\nparent: child exited 0\n";
    auto piped = kit::test::run_program({kit::test::program_path("fork_buffer_fixed")});
    ASSERT_TRUE(piped.status.ok()) << piped.status.describe() << piped.err;
    EXPECT_EQ(piped.out, expected);
    EXPECT_EQ(run_on_a_terminal(kit::test::program_path("fork_buffer_fixed")), expected);
}
