// Crash lab (进程崩溃) for pipes: one side is killed with SIGKILL at the step
// that matters, stopped there by a handshake (never by sleeping), and the
// test asserts what the survivor sees and what is left in the system.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

namespace {

// What /proc/self/fd/<fd> points to: "pipe:[inode]" for a pipe, a path for
// anything with a name.
std::string fd_target(int fd) {
    char target[256] = {};
    const auto link = "/proc/self/fd/" + std::to_string(fd);
    if (::readlink(link.c_str(), target, sizeof target - 1) <= 0) return {};
    return target;
}

// Reads until EOF (bounded); returns the bytes, and whether EOF was seen.
std::pair<std::string, bool> read_to_eof(int fd) {
    std::string out;
    char buf[256];
    while (kit::wait_readable(fd)) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == -1 && errno == EINTR) continue;
        if (n <= 0) return {out, n == 0};
        out.append(buf, static_cast<std::size_t>(n));
    }
    return {out, false};
}

// Kills `c` with SIGKILL and reaps it; true if SIGKILL is what ended it.
bool kill_and_reap(kit::Child& c) {
    if (::kill(c.pid(), SIGKILL) != 0) return false;
    return c.wait().killed_by(SIGKILL);
}

}  // namespace

TEST(PipeCrash, WriterKilledMidMessageLeavesTheBytesWrittenSoFarThenEof) {
    auto data = kit::make_pipe();
    auto step = kit::make_pipe();  // the writer tells us: half the message is in
    auto hold = kit::make_pipe();  // ... and then waits here until it is killed
    auto writer = kit::spawn([&] {
        data.read.reset();
        step.read.reset();
        hold.write.reset();
        kit::write_all(data.write.get(), std::as_bytes(std::span("hello, ", 7)));
        kit::write_all(step.write.get(), std::as_bytes(std::span("!", 1)));
        (void)kit::wait_readable(hold.read.get());  // never written: killed here
        kit::write_all(data.write.get(), std::as_bytes(std::span("world", 5)));
        return 0;
    });
    data.write.reset();  // the writer holds the only write end
    step.write.reset();
    hold.read.reset();
    ASSERT_TRUE(kit::wait_readable(step.read.get())) << "the writer never reached the step";
    ASSERT_TRUE(kill_and_reap(writer)) << "SIGKILL did not end the writer";
    // The survivor: the bytes written before the kill, then EOF (read() = 0),
    // because the kernel closed the dead writer's descriptors.
    auto [got, eof] = read_to_eof(data.read.get());
    EXPECT_EQ(got, "hello, ");
    EXPECT_TRUE(eof) << "no EOF after the writer died";
    // Left behind: nothing named. The pipe is "pipe:[inode]", not a path, and
    // goes away with our read end.
    EXPECT_EQ(fd_target(data.read.get()).rfind("pipe:[", 0), 0u) << fd_target(data.read.get());
}

TEST(PipeCrash, ReaderKilledWakesTheBlockedWriterWithEpipe) {
    // The writer has SIGPIPE ignored and is blocked in write() on a full pipe
    // when the only reader is killed: the write returns -1 with EPIPE.
    auto data = kit::make_pipe();
    auto step = kit::make_pipe();
    auto hold = kit::make_pipe();
    auto reader = kit::spawn([&] {
        data.write.reset();
        step.read.reset();
        hold.write.reset();
        kit::write_all(step.write.get(), std::as_bytes(std::span("!", 1)));
        (void)kit::wait_readable(hold.read.get());  // reads nothing; killed here
        return 0;
    });
    step.write.reset();
    ASSERT_TRUE(kit::wait_readable(step.read.get())) << "the reader never started";
    auto writer = kit::spawn([&] {
        data.read.reset();
        ::signal(SIGPIPE, SIG_IGN);
        const int cap = kit::check(::fcntl(data.write.get(), F_GETPIPE_SZ), "F_GETPIPE_SZ");
        std::vector<char> fill(static_cast<std::size_t>(cap), 'f');
        kit::write_all(data.write.get(), std::as_bytes(std::span(fill)));  // now full
        if (::write(data.write.get(), "x", 1) != -1) return 1;             // blocks here
        return errno == EPIPE ? 0 : 2;
    });
    data.read.reset();  // the killed reader will have held the only read end
    data.write.reset();
    ASSERT_TRUE(kit::wait_until_blocked(writer.pid(), "pipe")) << "the writer never blocked";
    ASSERT_TRUE(kill_and_reap(reader)) << "SIGKILL did not end the reader";
    auto st = writer.wait();
    EXPECT_TRUE(st.ok()) << "the blocked write did not fail with EPIPE: " << st.describe();
}

TEST(PipeCrash, ReaderKilledThenTheNextWriteKillsTheWriterWithSigpipe) {
    auto data = kit::make_pipe();
    auto step = kit::make_pipe();
    auto hold = kit::make_pipe();
    auto reader = kit::spawn([&] {
        data.write.reset();
        step.read.reset();
        hold.write.reset();
        kit::write_all(step.write.get(), std::as_bytes(std::span("!", 1)));
        (void)kit::wait_readable(hold.read.get());
        return 0;
    });
    data.read.reset();
    step.write.reset();
    ASSERT_TRUE(kit::wait_readable(step.read.get())) << "the reader never started";
    ASSERT_TRUE(kill_and_reap(reader)) << "SIGKILL did not end the reader";
    // No read end is open anywhere now: a writer with SIGPIPE at its default
    // action is killed by it.
    auto writer = kit::spawn([&] {
        ::signal(SIGPIPE, SIG_DFL);
        (void)::write(data.write.get(), "x", 1);
        return 0;  // not reached
    });
    auto st = writer.wait();
    EXPECT_TRUE(st.killed_by(SIGPIPE)) << st.describe();
}
