// Tests of chapter 01 (pipes): every kernel fact the lesson states, proved with
// real processes and real pipes. Names read as the sentence they prove.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "kit/child.hpp"
#include "kit_test/program.hpp"
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

using namespace std::chrono_literals;

namespace {

std::string prog(const char* name) {
    return std::string(KIT_BIN_DIR "/") + name;
}

int queued(int fd) {
    int n = 0;
    kit::check(::ioctl(fd, FIONREAD, &n), "ioctl FIONREAD");
    return n;
}

// Writes capacity - room bytes into a fresh non-blocking pipe.
kit::Pipe pipe_with_room(int room) {
    kit::Pipe p = kit::make_pipe(O_NONBLOCK | O_CLOEXEC);
    const int cap = kit::check(::fcntl(p.write.get(), F_GETPIPE_SZ), "F_GETPIPE_SZ");
    std::vector<char> fill(static_cast<std::size_t>(cap - room), 'f');
    kit::write_all(p.write.get(), std::as_bytes(std::span(fill)));
    return p;
}


}  // namespace

// ---- basics ---------------------------------------------------------------

TEST(PipeBasics, ParentToChildDeliversTheBytesThenEof) {
    auto r = kit::test::run_program({prog("pipe_parent_child"), "over the pipe"});
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
    auto broken = kit::test::run_program({prog("pipe_eof_broken")});
    ASSERT_TRUE(broken.status.ok()) << broken.status.describe() << broken.out << broken.err;
    EXPECT_NE(broken.out.find("no EOF within 500 ms"), std::string::npos) << broken.out;
    EXPECT_NE(broken.out.find("closed my write end, read() returned 0"), std::string::npos);
    auto fixed = kit::test::run_program({prog("pipe_eof_fixed")});
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
    auto r = kit::test::run_program({prog("pipe_two_way"), "ping", "hello"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out,
              "parent sent \"ping\", child replied \"PING\"\n"
              "parent sent \"hello\", child replied \"HELLO\"\n");
}

// ---- pipeline -------------------------------------------------------------

TEST(PipePipeline, OutputMatchesTheShell) {
    auto mine = kit::test::run_program({prog("pipe_pipeline"), "seq", "1", "2000", "--", "sort", "-r"});
    auto shell = kit::test::run_program({"/bin/sh", "-c", "seq 1 2000 | sort -r"});
    ASSERT_TRUE(mine.status.ok()) << mine.status.describe() << mine.err;
    ASSERT_TRUE(shell.status.ok());
    EXPECT_EQ(mine.out, shell.out);
    EXPECT_EQ(std::count(mine.out.begin(), mine.out.end(), '\n'), 2000);
}

TEST(PipePipeline, BothCommandsAreChildrenOfTheSameParent) {
    // Each side prints its parent's pid ($PPID); the program prints its own.
    auto r = kit::test::run_program(
        {prog("pipe_pipeline"), "sh", "-c", "echo $PPID", "--", "sh", "-c", "cat && echo $PPID"});
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
    auto r = kit::test::run_program({prog("pipe_framing")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("1 read of 10 bytes: \"helloworld\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("framed: \"hello\" \"world\"\n"), std::string::npos) << r.out;
}

// ---- capacity -------------------------------------------------------------

TEST(PipeCapacity, NonBlockingWritesFillExactlyGetPipeSzBytes) {
    auto p = kit::make_pipe(O_NONBLOCK | O_CLOEXEC);
    long filled = 0;
    while (::write(p.write.get(), "x", 1) == 1) ++filled;
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(filled, ::fcntl(p.write.get(), F_GETPIPE_SZ));
    EXPECT_EQ(queued(p.read.get()), filled);
}

TEST(PipeCapacity, DefaultIsSixteenPages) {
    auto p = kit::make_pipe();
    const long page = ::sysconf(_SC_PAGESIZE);
    const int cap = ::fcntl(p.write.get(), F_GETPIPE_SZ);
    // Over the soft limit, new pipes get 1 page (2 since Linux 5.14).
    if (cap <= 2 * page && !kit::has_capability(kit::kCapSysResource))
        GTEST_SKIP() << "this user is over /proc/sys/fs/pipe-user-pages-soft: new pipes get "
                     << cap / page << " page(s)";
    if (auto max = kit::read_long_file("/proc/sys/fs/pipe-max-size"); max && *max < 16 * page)
        GTEST_SKIP() << "pipe-max-size (" << *max << ") caps the default capacity below 16 pages";
    EXPECT_EQ(cap, 16 * page);  // 65536 with 4 KiB pages
}

TEST(PipeCapacity, ProgramMeasuresWhatTheKernelReports) {
    auto r = kit::test::run_program({prog("pipe_capacity")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        r.out, m, std::regex("capacity: ([0-9]+) bytes \\(F_GETPIPE_SZ: ([0-9]+)")));
    EXPECT_EQ(m[1].str(), m[2].str());
}

TEST(PipeCapacity, SetPipeSzRoundsUpToAPowerOfTwoPages) {
    auto p = kit::make_pipe();
    const int page = static_cast<int>(::sysconf(_SC_PAGESIZE));
    if (page != 4096)
        GTEST_SKIP() << "the byte values below assume 4 KiB pages; this machine has " << page;
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, 1), page);
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, page + 1), 2 * page);
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, 3 * page), 4 * page);
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, 5000), 8192);
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, 65537), 131072);
    EXPECT_EQ(::fcntl(p.write.get(), F_GETPIPE_SZ), 131072);
    auto r = kit::test::run_program({prog("pipe_capacity"), "5000"});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("capacity: 8192 bytes"), std::string::npos) << r.out;
}

TEST(PipeCapacity, PipeMaxSizeIsAllowedOneByteMoreFailsWithEperm) {
    const auto max = kit::read_long_file("/proc/sys/fs/pipe-max-size");
    if (!max) GTEST_SKIP() << "/proc/sys/fs/pipe-max-size is not readable";
    if (kit::has_capability(kit::kCapSysResource))
        GTEST_SKIP() << "this process has CAP_SYS_RESOURCE, which may exceed pipe-max-size";
    auto p = kit::make_pipe();
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, static_cast<int>(*max)), *max);
    errno = 0;
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, static_cast<int>(*max + 1)), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::fcntl(p.write.get(), F_GETPIPE_SZ), *max);  // unchanged
}

TEST(PipeCapacity, ShrinkingBelowTheQueuedBytesFailsWithEbusy) {
    auto p = kit::make_pipe(O_NONBLOCK | O_CLOEXEC);
    const int page = static_cast<int>(::sysconf(_SC_PAGESIZE));
    std::vector<char> data(static_cast<std::size_t>(3 * page), 'q');  // fills 3 pages
    kit::write_all(p.write.get(), std::as_bytes(std::span(data)));
    errno = 0;
    EXPECT_EQ(::fcntl(p.write.get(), F_SETPIPE_SZ, page), -1);
    EXPECT_EQ(errno, EBUSY);
    EXPECT_EQ(queued(p.read.get()), 3 * page);  // nothing lost
}

TEST(PipeCapacity, FullPipeBlocksWritersUntilTheReaderDrains) {
    auto p = kit::make_pipe();  // blocking, as pipes are by default
    const int cap = kit::check(::fcntl(p.write.get(), F_GETPIPE_SZ), "F_GETPIPE_SZ");
    std::vector<char> fill(static_cast<std::size_t>(cap), 'f');
    kit::write_all(p.write.get(), std::as_bytes(std::span(fill)));  // fits exactly: returns
    EXPECT_FALSE(kit::wait_writable(p.write.get(), 0ms));           // poll() agrees: no room
    auto writer = kit::spawn([&] {
        p.read.reset();
        return ::write(p.write.get(), "w", 1) == 1 ? 0 : 1;
    });
    // The writer is asleep inside the kernel's pipe write (wchan), and its
    // byte is not in: the pipe still holds exactly its capacity.
    ASSERT_TRUE(kit::wait_until_blocked(writer.pid(), "pipe")) << "writer never blocked";
    EXPECT_EQ(queued(p.read.get()), cap);
    const long page = ::sysconf(_SC_PAGESIZE);
    std::vector<char> buf(static_cast<std::size_t>(page));
    ASSERT_EQ(::read(p.read.get(), buf.data(), buf.size()), page);  // the reader takes a page
    EXPECT_TRUE(writer.wait().ok());                                // ... and the writer finishes
    EXPECT_EQ(queued(p.read.get()), cap - page + 1);
}

// ---- atomicity ------------------------------------------------------------

TEST(PipeAtomicity, PipeBufIs4096AndCapacityIsNot) {
    auto p = kit::make_pipe();
    EXPECT_EQ(PIPE_BUF, 4096);
    EXPECT_EQ(::fpathconf(p.write.get(), _PC_PIPE_BUF), 4096);
    EXPECT_GT(::fcntl(p.write.get(), F_GETPIPE_SZ), PIPE_BUF);
}

TEST(PipeAtomicity, WritesUpToPipeBufDoNotInterleave) {
    // 4 writer processes, 60 records each of exactly PIPE_BUF bytes, each
    // record one letter. More than the capacity is in flight, so writers
    // block and wake while others write: any tearing would show.
    constexpr int kWriters = 4, kRecords = 60;
    auto p = kit::make_pipe();
    std::vector<kit::Child> writers;
    for (int w = 0; w < kWriters; ++w) {
        writers.push_back(kit::spawn([&, w] {
            p.read.reset();
            std::vector<char> rec(PIPE_BUF, static_cast<char>('A' + w));
            for (int r = 0; r < kRecords; ++r)
                if (::write(p.write.get(), rec.data(), rec.size()) != PIPE_BUF) return 1;
            return 0;
        }));
    }
    p.write.reset();
    std::map<char, int> per_writer;
    int torn = 0, total = 0;
    std::vector<char> rec(PIPE_BUF);
    while (kit::read_full(p.read.get(), std::as_writable_bytes(std::span(rec))) == rec.size()) {
        ++total;
        if (std::count(rec.begin(), rec.end(), rec[0]) != PIPE_BUF)
            ++torn;
        else
            ++per_writer[rec[0]];
    }
    for (auto& w : writers) EXPECT_TRUE(w.wait().ok());
    EXPECT_EQ(total, kWriters * kRecords);
    EXPECT_EQ(torn, 0);
    for (int w = 0; w < kWriters; ++w) EXPECT_EQ(per_writer[char('A' + w)], kRecords);
}

TEST(PipeAtomicity, NonBlockingWriteUpToPipeBufIsAllOrNothing) {
    auto p = pipe_with_room(96);
    const int before = queued(p.read.get());
    std::vector<char> small(200, 's');  // <= PIPE_BUF, more than the room
    errno = 0;
    EXPECT_EQ(::write(p.write.get(), small.data(), small.size()), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(queued(p.read.get()), before);                  // not one byte went in
    EXPECT_EQ(::write(p.write.get(), small.data(), 96), 96);  // what fits goes in whole
}

TEST(PipeAtomicity, NonBlockingWriteAbovePipeBufIsPartial) {
    auto p = pipe_with_room(4096);
    const int before = queued(p.read.get());
    std::vector<char> big(6000, 'b');  // > PIPE_BUF, more than the room
    ssize_t n = ::write(p.write.get(), big.data(), big.size());
    ASSERT_GT(n, 0) << "errno " << errno;
    EXPECT_LT(n, 6000);
    EXPECT_EQ(queued(p.read.get()), before + n);
    auto r = kit::test::run_program({prog("pipe_nonblock_write")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("write(200) [<= PIPE_BUF] -> -1 EAGAIN"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(partial)"), std::string::npos) << r.out;
}

TEST(PipeAtomicity, ProgramFindsNoTornRecordsAtPipeBuf) {
    auto r = kit::test::run_program({prog("pipe_atomic_writers"), "5", "40", "4096"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("200 records read, 0 torn"), std::string::npos) << r.out;
}

// ---- no reader / no writer ------------------------------------------------

TEST(PipeSignals, WriteWithNoReaderKillsTheWriterWithSigpipe) {
    auto p = kit::make_pipe();
    p.read.reset();
    auto w = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        (void)::write(p.write.get(), "x", 1);
        return 0;  // not reached
    });
    auto st = w.wait();
    EXPECT_TRUE(st.killed_by(SIGPIPE)) << st.describe();
    EXPECT_EQ(SIGPIPE, 13);
}

TEST(PipeSignals, WriteWithNoReaderAndSigpipeIgnoredFailsWithEpipe) {
    auto p = kit::make_pipe();
    p.read.reset();
    auto w = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_IGN);
        if (::write(p.write.get(), "x", 1) != -1) return 1;
        return errno == EPIPE ? 0 : 2;
    });
    auto st = w.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
    auto r = kit::test::run_program({prog("pipe_sigpipe")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("killed by signal 13"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("errno EPIPE"), std::string::npos) << r.out;
}

// ---- who can use a pipe ---------------------------------------------------

TEST(PipeSharing, ProcessThatNeverInheritedThePipeUsesItThroughProcFd) {
    // A creates its pipe AFTER both A and B were forked, so B cannot have
    // inherited it, and neither is the other's parent. B writes into A's
    // pipe and reads from it through /proc/<A>/fd/<n>.
    auto info = kit::make_pipe();  // A tells B its pid and fd numbers
    auto go = kit::make_pipe();    // A tells B: your bytes are read, mine are in
    auto done = kit::make_pipe();  // B tells A it has finished
    auto b = kit::spawn([&] {
        info.write.reset();
        go.write.reset();
        done.read.reset();
        std::array<int, 3> msg{};  // A's pid, read fd, write fd
        if (kit::read_full(info.read.get(), std::as_writable_bytes(std::span(msg))) != sizeof msg)
            return 1;
        const std::string base = "/proc/" + std::to_string(msg[0]) + "/fd/";
        kit::Fd w(kit::check(::open((base + std::to_string(msg[2])).c_str(), O_WRONLY), "open"));
        kit::write_all(w.get(), std::as_bytes(std::span("from B", 6)));
        if (!kit::wait_readable(go.read.get())) return 2;
        kit::Fd r(kit::check(::open((base + std::to_string(msg[1])).c_str(), O_RDONLY), "open"));
        std::array<char, 6> got{};
        if (kit::read_full(r.get(), std::as_writable_bytes(std::span(got))) != 6) return 3;
        kit::write_all(done.write.get(), std::as_bytes(std::span("!", 1)));
        return std::string(got.data(), 6) == "from A" ? 0 : 4;
    });
    auto a = kit::spawn([&] {
        info.read.reset();
        go.read.reset();
        done.write.reset();
        int fds[2];
        kit::check(::pipe2(fds, O_CLOEXEC), "pipe2");
        const std::array<int, 3> msg = {int(::getpid()), fds[0], fds[1]};
        kit::write_all(info.write.get(), std::as_bytes(std::span(msg)));
        std::array<char, 6> got{};
        if (!kit::wait_readable(fds[0])) return 2;
        if (kit::read_full(fds[0], std::as_writable_bytes(std::span(got))) != 6) return 3;
        if (std::string(got.data(), 6) != "from B") return 4;
        kit::write_all(fds[1], std::as_bytes(std::span("from A", 6)));
        kit::write_all(go.write.get(), std::as_bytes(std::span("!", 1)));
        return kit::wait_readable(done.read.get()) ? 0 : 5;  // hold the pipe until B is done
    });
    info.read.reset();
    info.write.reset();
    go.read.reset();
    go.write.reset();
    done.read.reset();
    done.write.reset();
    EXPECT_TRUE(b.wait().ok());
    EXPECT_TRUE(a.wait().ok());
    auto r = kit::test::run_program({prog("pipe_proc_fd")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("is not open here (EBADF)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("read: \"hello from a stranger\""), std::string::npos) << r.out;
}

// ---- popen ----------------------------------------------------------------

TEST(PipePopen, PopenReadsACommandAndPcloseReturnsItsStatus) {
    std::fflush(nullptr);
    FILE* f = ::popen("printf 'one\\ntwo\\n' && exit 3", "r");
    ASSERT_NE(f, nullptr);
    std::string out;
    char buf[64];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    int st = ::pclose(f);
    EXPECT_EQ(out, "one\ntwo\n");
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 3);
    auto r = kit::test::run_program({prog("popen_sort")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("a\nb\nc\npclose: sort exited 0"), std::string::npos) << r.out;
}
