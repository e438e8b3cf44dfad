// Tests of chapter 01 (pipes), part 2: capacity, PIPE_BUF and atomic writes,
// SIGPIPE/EPIPE, who can use a pipe, popen. Proved with real processes and
// real pipes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
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
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"

using namespace std::chrono_literals;

namespace {

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
    auto r = kit::test::run_program({kit::test::program_path("pipe_capacity")});
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
    auto r = kit::test::run_program({kit::test::program_path("pipe_capacity"), "5000"});
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
    // One pipe, one state: 96 bytes of room. A write of 200 bytes (<= PIPE_BUF)
    // does not fit: EAGAIN, nothing written. On the very same pipe a write
    // above PIPE_BUF is not refused: it takes the room and returns a short
    // count. So the EAGAIN is the all-or-nothing rule, not "no room at all".
    constexpr int kRoom = 96;
    constexpr std::size_t kSmall = 200, kLarge = PIPE_BUF + kRoom;
    static_assert(kSmall <= PIPE_BUF && kSmall > kRoom && kLarge > PIPE_BUF);
    auto p = pipe_with_room(kRoom);
    const int cap = ::fcntl(p.write.get(), F_GETPIPE_SZ);
    const int before = queued(p.read.get());
    ASSERT_EQ(before, cap - kRoom);
    std::vector<char> data(kLarge, 'd');
    errno = 0;
    EXPECT_EQ(::write(p.write.get(), data.data(), kSmall), -1)
        << "a write <= PIPE_BUF went in part";
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(queued(p.read.get()), before);  // not one byte went in
    const ssize_t n = ::write(p.write.get(), data.data(), kLarge);
    ASSERT_GT(n, 0) << "errno " << errno << ": the large write found no room either";
    EXPECT_LT(n, ssize_t(kLarge));  // partial
    EXPECT_LE(n, kRoom);
    EXPECT_EQ(queued(p.read.get()), before + n);
    // And a small write that fits goes in whole.
    auto q = pipe_with_room(kRoom);
    EXPECT_EQ(::write(q.write.get(), data.data(), kRoom), kRoom);
    EXPECT_EQ(queued(q.read.get()), cap);
}

TEST(PipeAtomicity, NonBlockingWriteAbovePipeBufIsPartial) {
    auto p = pipe_with_room(4096);
    const int before = queued(p.read.get());
    std::vector<char> big(6000, 'b');  // > PIPE_BUF, more than the room
    ssize_t n = ::write(p.write.get(), big.data(), big.size());
    ASSERT_GT(n, 0) << "errno " << errno;
    EXPECT_LT(n, 6000);
    EXPECT_EQ(queued(p.read.get()), before + n);
    auto r = kit::test::run_program({kit::test::program_path("pipe_nonblock_write")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("room 96 bytes: write(200) [<= PIPE_BUF] -> -1 EAGAIN"), std::string::npos)
        << r.out;
    EXPECT_TRUE(std::regex_search(
        r.out,
        std::regex("room 96 bytes: write\\(4192\\) \\[>  PIPE_BUF\\] -> [0-9]+ \\(partial\\)")))
        << r.out;
}

TEST(PipeAtomicity, ProgramFindsNoTornRecordsAtPipeBuf) {
    auto r =
        kit::test::run_program({kit::test::program_path("pipe_atomic_writers"), "5", "40", "4096"});
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
    auto r = kit::test::run_program({kit::test::program_path("pipe_sigpipe")});
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
    auto r = kit::test::run_program({kit::test::program_path("pipe_proc_fd")});
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
    auto r = kit::test::run_program({kit::test::program_path("popen_sort")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("a\nb\nc\npclose: sort exited 0"), std::string::npos) << r.out;
}
