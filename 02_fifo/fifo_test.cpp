// Tests of chapter 02 (FIFOs): every kernel fact the lesson states, proved with
// real processes meeting at real FIFO names, each name removed by a guard.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
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

using namespace std::chrono_literals;
using ch02::test::blocked_in_fifo_open;
using ch02::test::make_fifo;

namespace {

int queued(int fd) {
    int n = 0;
    kit::check(::ioctl(fd, FIONREAD, &n), "ioctl FIONREAD");
    return n;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == -1 && errno == EINTR) continue;
        if (n <= 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

// In a child: open(path, flags) and report on `done` once it returns.
kit::Child open_in_child(const std::string& path, int flags, kit::Pipe& done) {
    return kit::spawn([&path, flags, &done] {
        done.read.reset();
        kit::Fd fd(kit::check(::open(path.c_str(), flags), "open"));
        kit::write_all(done.write.get(), std::as_bytes(std::span("o", 1)));
        return 0;
    });
}

}  // namespace

// ---- unrelated processes meet at a name -----------------------------------

TEST(FifoMeeting, WriterAndReaderProgramsMeetAsSeparateProcesses) {
    auto name = make_fifo("pair.fifo");
    auto reader = kit::test::start_program({kit::test::program_path("fifo_reader"), name.name()});
    auto w = kit::test::run_program(
        {kit::test::program_path("fifo_writer"), name.name(), "hello", "world"});
    EXPECT_TRUE(w.status.ok()) << w.status.describe() << w.err;
    EXPECT_NE(w.err.find("wrote 2 lines"), std::string::npos) << w.err;
    std::string out = reader.finish();
    EXPECT_EQ(out.rfind("hello\nworld\n", 0), 0u) << out;
    EXPECT_NE(out.find("EOF after 12 bytes"), std::string::npos) << out;
}

TEST(FifoMeeting, OnlyOpenMeetsTheWriterNeedNotWaitForTheReaderToRead) {
    // The reader opens, then reads nothing while the writer writes, closes
    // and exits entirely; the bytes wait in the kernel buffer.
    auto name = make_fifo("buffered.fifo");
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    auto w = kit::spawn([&] {
        kit::Fd fd(kit::check(::open(name.c_str(), O_WRONLY), "open"));
        kit::write_all(fd.get(), std::as_bytes(std::span("written while nobody read", 25)));
    });
    ASSERT_TRUE(w.wait().ok());  // the writer is gone
    EXPECT_EQ(read_all(r.get()), "written while nobody read");
}

TEST(FifoMeeting, AnyNumberOfProcessesMayOpenTheName) {
    auto name = make_fifo("many.fifo");
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    for (const char* word : {"one", "two", "three"}) {
        auto w =
            kit::test::run_program({kit::test::program_path("fifo_writer"), name.name(), word});
        ASSERT_TRUE(w.status.ok()) << w.err;
    }
    EXPECT_EQ(read_all(r.get()), "one\ntwo\nthree\n");
}

TEST(FifoMeeting, EachByteGoesToExactlyOneReader) {
    auto name = make_fifo("readers.fifo");
    kit::Fd r1(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
    kit::write_all(w.get(), std::as_bytes(std::span("ab", 2)));
    auto other = kit::spawn([&] {  // a second reader, another process, its own open()
        kit::Fd r2(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
        char c = 0;
        return ::read(r2.get(), &c, 1) == 1 && c == 'a' ? 0 : 1;
    });
    ASSERT_TRUE(other.wait().ok());
    char c = 0;
    ASSERT_EQ(::read(r1.get(), &c, 1), 1);
    EXPECT_EQ(c, 'b');  // 'a' was consumed by the other reader
    errno = 0;
    EXPECT_EQ(::read(r1.get(), &c, 1), -1);
    EXPECT_EQ(errno, EAGAIN);
}

// ---- open() rules ---------------------------------------------------------

TEST(FifoOpen, ReadOnlyOpenBlocksUntilAWriterOpens) {
    auto name = make_fifo("ro.fifo");
    auto done = kit::make_pipe();
    auto c = open_in_child(name.name(), O_RDONLY, done);
    done.write.reset();
    // The child is asleep in open(), waiting for a writer, and has not returned.
    ASSERT_TRUE(blocked_in_fifo_open(c.pid())) << "the child never blocked in open()";
    EXPECT_FALSE(kit::wait_readable(done.read.get(), 0ms)) << "open returned without a writer";
    kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
    EXPECT_TRUE(kit::wait_readable(done.read.get(), 5s));
    EXPECT_TRUE(c.wait().ok());
}

TEST(FifoOpen, WriteOnlyOpenBlocksUntilAReaderOpens) {
    auto name = make_fifo("wo.fifo");
    auto done = kit::make_pipe();
    auto c = open_in_child(name.name(), O_WRONLY, done);
    done.write.reset();
    // The child is asleep in open(), waiting for a reader, and has not returned.
    ASSERT_TRUE(blocked_in_fifo_open(c.pid())) << "the child never blocked in open()";
    EXPECT_FALSE(kit::wait_readable(done.read.get(), 0ms)) << "open returned without a reader";
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY), "open"));
    EXPECT_TRUE(kit::wait_readable(done.read.get(), 5s));
    EXPECT_TRUE(c.wait().ok());
}

TEST(FifoOpen, NonBlockingReadOnlyOpenSucceedsAtOnce) {
    auto name = make_fifo("ronb.fifo");
    int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    kit::Fd owned(fd);
    char c;
    EXPECT_EQ(::read(fd, &c, 1), 0);  // no writer: EOF, not EAGAIN
}

TEST(FifoOpen, NonBlockingWriteOnlyOpenWithoutReaderFailsWithEnxio) {
    auto name = make_fifo("wonb.fifo");
    errno = 0;
    EXPECT_EQ(::open(name.c_str(), O_WRONLY | O_NONBLOCK), -1);
    EXPECT_EQ(errno, ENXIO);
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    kit::Fd w(::open(name.c_str(), O_WRONLY | O_NONBLOCK));  // with a reader: fine
    EXPECT_TRUE(w) << std::strerror(errno);
}

TEST(FifoOpen, ReadWriteOpenDoesNotBlockOnLinux) {
    // POSIX leaves O_RDWR on a FIFO undefined; Linux returns at once, and the
    // opener is then its own writer (so it never sees EOF).
    auto name = make_fifo("rdwr.fifo");
    // A blocking O_RDWR open with nobody else on the FIFO: a child that
    // blocked here would be killed at the deadline and fail the test.
    auto c = kit::spawn([&] {
        kit::Fd fd(kit::check(::open(name.c_str(), O_RDWR), "open"));
        return 0;
    });
    EXPECT_TRUE(c.wait().ok());
    kit::Fd fd(::open(name.c_str(), O_RDWR | O_NONBLOCK));
    ASSERT_TRUE(fd) << std::strerror(errno);
    char c1;
    errno = 0;
    EXPECT_EQ(::read(fd.get(), &c1, 1), -1);  // empty, a writer (itself): EAGAIN, not EOF
    EXPECT_EQ(errno, EAGAIN);
}

TEST(FifoOpen, ProgramShowsAllFourRules) {
    auto r = kit::test::run_program({kit::test::program_path("fifo_open_rules")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("no writer: opened at once"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no reader: ENXIO"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("O_RDONLY: child still blocked in open() after 300 ms ... returned"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("O_WRONLY: child still blocked in open() after 300 ms ... returned"),
              std::string::npos)
        << r.out;
}

// ---- storage --------------------------------------------------------------

TEST(FifoStorage, DataNeverReachesTheDiskStatSizeStaysZero) {
    auto name = make_fifo("nodisk.fifo");
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
    std::vector<char> data(60000, 'd');
    kit::write_all(w.get(), std::as_bytes(std::span(data)));
    struct stat st {};
    ASSERT_EQ(::stat(name.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_size, 0);
    EXPECT_EQ(st.st_blocks, 0);
    EXPECT_EQ(queued(r.get()), 60000);  // yet the bytes are there, in the kernel
    auto p = kit::test::run_program({kit::test::program_path("fifo_no_disk")});
    ASSERT_TRUE(p.status.ok()) << p.err;
    EXPECT_NE(p.out.find("FIONREAD: 4000; stat: FIFO, st_size 0, st_blocks 0"), std::string::npos)
        << p.out;
}

TEST(FifoStorage, NameOutlivesTheProcessesUntilUnlink) {
    auto path = kit::unique_temp_path("outlive.fifo");
    auto guard = kit::unlink_guard(path);
    auto c = kit::spawn([&] {
        kit::check(::mkfifo(path.c_str(), 0600), "mkfifo");
        kit::Fd r(kit::check(::open(path.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    });
    ASSERT_TRUE(c.wait().ok());  // its creator has exited
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    ASSERT_EQ(::unlink(path.c_str()), 0);
    errno = 0;
    EXPECT_EQ(::lstat(path.c_str(), &st), -1);
    EXPECT_EQ(errno, ENOENT);
}

TEST(FifoStorage, UnreadBytesDieWithTheLastClose) {
    auto name = make_fifo("gone.fifo");
    {
        kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
        kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
        kit::write_all(w.get(), std::as_bytes(std::span("lost", 4)));
        ASSERT_EQ(queued(r.get()), 4);
    }
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
    EXPECT_EQ(queued(r.get()), 0);
    char c;
    errno = 0;
    EXPECT_EQ(::read(r.get(), &c, 1), -1);  // empty, a writer is open: would block
    EXPECT_EQ(errno, EAGAIN);
}

// ---- a FIFO is a pipe -----------------------------------------------------

TEST(FifoIsAPipe, BothAreSIsFifoWithTheSameDefaultCapacity) {
    auto p = kit::make_pipe(O_NONBLOCK | O_CLOEXEC);
    auto name = make_fifo("same.fifo");
    kit::Fd fr(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    kit::Fd fw(kit::check(::open(name.c_str(), O_WRONLY | O_NONBLOCK), "open"));
    struct stat ps {
    }, fs{};
    ASSERT_EQ(::fstat(p.read.get(), &ps), 0);
    ASSERT_EQ(::fstat(fr.get(), &fs), 0);
    EXPECT_TRUE(S_ISFIFO(ps.st_mode));
    EXPECT_TRUE(S_ISFIFO(fs.st_mode));
    const int pipe_cap = ::fcntl(p.write.get(), F_GETPIPE_SZ);
    EXPECT_GT(pipe_cap, 0);
    EXPECT_EQ(::fcntl(fw.get(), F_GETPIPE_SZ), pipe_cap);
    // Measured the same way: non-blocking writes until EAGAIN.
    long filled = 0;
    while (::write(fw.get(), "x", 1) == 1) ++filled;
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(filled, pipe_cap);
    // And the same knob resizes it.
    EXPECT_EQ(::fcntl(fw.get(), F_SETPIPE_SZ, 5000), -1);  // 65536 queued: cannot shrink
    EXPECT_EQ(errno, EBUSY);
    auto r = kit::test::run_program({kit::test::program_path("fifo_is_a_pipe")});
    ASSERT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("pipe: S_ISFIFO yes, F_GETPIPE_SZ " + std::to_string(pipe_cap)),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("fifo: S_ISFIFO yes, F_GETPIPE_SZ " + std::to_string(pipe_cap)),
              std::string::npos)
        << r.out;
}

TEST(FifoIsAPipe, EachOpenEndIsOneWaySoAConversationNeedsTwoFifos) {
    auto name = make_fifo("oneway.fifo");
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    auto writer = kit::spawn([&] {  // another process holds the write end
        kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
        char c = 0;
        if (::read(w.get(), &c, 1) != -1 || errno != EBADF) return 1;  // cannot read from it
        return ::write(w.get(), "x", 1) == 1 ? 0 : 2;
    });
    ASSERT_TRUE(writer.wait().ok());
    errno = 0;
    EXPECT_EQ(::write(r.get(), "y", 1), -1);  // and the reader cannot answer on its end
    EXPECT_EQ(errno, EBADF);
    char c = 0;
    ASSERT_EQ(::read(r.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST(FifoIsAPipe, WriteAfterTheReaderLeftRaisesSigpipeOrFailsWithEpipe) {
    auto name = make_fifo("epipe.fifo");
    kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
    r.reset();  // the only reader leaves
    auto killed = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        (void)::write(w.get(), "x", 1);
        return 0;
    });
    auto st = killed.wait();
    EXPECT_TRUE(st.killed_by(SIGPIPE)) << st.describe();
    auto ignoring = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_IGN);
        if (::write(w.get(), "x", 1) != -1) return 1;
        return errno == EPIPE ? 0 : 2;
    });
    EXPECT_TRUE(ignoring.wait().ok());
}

// ---- a server with many clients -------------------------------------------

TEST(FifoServer, OwnWriteEndMeansNoEofWhenTheLastClientLeaves) {
    auto name = make_fifo("srv.fifo");
    kit::Fd in(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
    auto client = [&] {
        auto c = kit::spawn([&] {
            kit::Fd out(kit::check(::open(name.c_str(), O_WRONLY), "open"));
            kit::write_all(out.get(), std::as_bytes(std::span("req", 3)));
        });
        ASSERT_TRUE(c.wait().ok());
    };
    client();
    char buf[8];
    ASSERT_EQ(::read(in.get(), buf, sizeof buf), 3);
    // Without a write end of its own: the last client left, so the FIFO
    // reports EOF at once and for ever — a server loop would spin.
    EXPECT_TRUE(kit::wait_readable(in.get(), 0ms));
    EXPECT_EQ(::read(in.get(), buf, sizeof buf), 0);

    kit::Fd keep(kit::check(::open(name.c_str(), O_WRONLY), "open"));
    client();
    ASSERT_EQ(::read(in.get(), buf, sizeof buf), 3);
    // With its own write end: nothing to read and no EOF — poll() waits.
    EXPECT_FALSE(kit::wait_readable(in.get(), 200ms));
}

TEST(FifoServer, ManyClientsEachGetTheirOwnReply) {
    constexpr int kClients = 8;
    auto srv = make_fifo("many.srv");
    auto server = kit::test::start_program(
        {kit::test::program_path("fifo_server"), srv.name(), std::to_string(kClients)});
    std::vector<kit::Child> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(kit::spawn([&, i] {
            const std::string text = "client number " + std::to_string(i);
            std::string upper = text;
            for (char& c : upper) c = static_cast<char>(std::toupper(c));
            auto r =
                kit::test::run_program({kit::test::program_path("fifo_client"), srv.name(), text});
            return r.status.ok() && r.out.find("-> \"" + upper + "\"") != std::string::npos ? 0 : 1;
        }));
    }
    for (auto& c : clients) EXPECT_TRUE(c.wait().ok());
    std::string out = server.finish();
    EXPECT_NE(out.find("server: 8 requests, 8 replied, 0 vanished"), std::string::npos) << out;
}

TEST(FifoServer, SurvivesClientsThatVanishedBeforeTheirReply) {
    auto srv = make_fifo("vanish.srv");
    auto server =
        kit::test::start_program({kit::test::program_path("fifo_server"), srv.name(), "3"});
    auto dead = make_fifo("dead.reply");
    // Two clients send their requests and die before the answer. The process
    // that plays them is bounded; its open() waits for the server.
    auto ghosts = kit::spawn([&] {
        kit::Fd out(kit::check(::open(srv.c_str(), O_WRONLY), "open"));
        // Client 1 made its reply FIFO but has no reader on it: ENXIO.
        Request req{};
        req.pid = 1;
        std::strncpy(req.reply_path, dead.c_str(), sizeof req.reply_path - 1);
        std::strncpy(req.text, "anyone?", sizeof req.text - 1);
        if (::write(out.get(), &req, sizeof req) != ssize_t(sizeof req)) return 1;
        // Client 2's reply FIFO is gone altogether: ENOENT.
        req.pid = 2;
        std::strncpy(req.reply_path, (srv.name() + ".missing").c_str(), sizeof req.reply_path - 1);
        return ::write(out.get(), &req, sizeof req) == ssize_t(sizeof req) ? 0 : 2;
    });
    ASSERT_TRUE(ghosts.wait().ok());
    // A live client is still served.
    auto r =
        kit::test::run_program({kit::test::program_path("fifo_client"), srv.name(), "still there"});
    EXPECT_TRUE(r.status.ok()) << r.err;
    EXPECT_NE(r.out.find("-> \"STILL THERE\""), std::string::npos) << r.out;

    std::string log = server.finish();
    EXPECT_NE(log.find("server: 1 vanished before its reply (open: ENXIO)"), std::string::npos)
        << log;
    EXPECT_NE(log.find("server: 2 vanished before its reply (open: ENOENT)"), std::string::npos)
        << log;
    EXPECT_NE(log.find("server: 3 requests, 1 replied, 2 vanished"), std::string::npos) << log;
}
