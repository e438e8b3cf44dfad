// Tests of chapter 04 (chapter04.*), eventfd as a semaphore and a doorbell:
// counter and EFD_SEMAPHORE reads, the 8-byte rule, overflow, poll, and an
// eventfd inherited across fork waking another process.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

namespace {

constexpr std::uint64_t kMax = UINT64_MAX - 1;  // the largest value the counter holds

kit::Fd make_eventfd(unsigned initial, int flags) {
    return kit::Fd(kit::check(::eventfd(initial, flags | EFD_CLOEXEC), "eventfd"));
}

// One 8-byte write: 0 or the errno.
int add(int fd, std::uint64_t n) { return ::write(fd, &n, sizeof n) == sizeof n ? 0 : errno; }

// One 8-byte read into *out: 0 or the errno.
int take(int fd, std::uint64_t* out) {
    return ::read(fd, out, sizeof *out) == sizeof *out ? 0 : errno;
}

short ready_events(int fd) {
    pollfd p{fd, POLLIN | POLLOUT, 0};
    kit::check(::poll(&p, 1, 0), "poll");
    return p.revents;
}

}  // namespace

TEST(Eventfd, CounterModeReadReturnsTheSumAndResetsItToZero) {
    auto fd = make_eventfd(0, EFD_NONBLOCK);
    ASSERT_EQ(add(fd.get(), 3), 0);
    ASSERT_EQ(add(fd.get(), 4), 0);
    std::uint64_t v = 0;
    ASSERT_EQ(take(fd.get(), &v), 0);
    EXPECT_EQ(v, 7u);
    EXPECT_EQ(take(fd.get(), &v), EAGAIN) << "the read did not reset the counter";
}

TEST(Eventfd, SemaphoreModeReadTakesOneAtATime) {
    auto fd = make_eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
    ASSERT_EQ(add(fd.get(), 3), 0);
    for (int i = 0; i < 3; ++i) {
        std::uint64_t v = 0;
        ASSERT_EQ(take(fd.get(), &v), 0);
        EXPECT_EQ(v, 1u);
    }
    std::uint64_t v = 0;
    EXPECT_EQ(take(fd.get(), &v), EAGAIN);
}

TEST(Eventfd, ReadsAndWritesShorterThanEightBytesFailWithEinval) {
    auto fd = make_eventfd(5, EFD_NONBLOCK);
    std::uint32_t small = 1;
    EXPECT_EQ(::read(fd.get(), &small, sizeof small), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(::write(fd.get(), &small, sizeof small), -1);
    EXPECT_EQ(errno, EINVAL);
    std::uint64_t v = 0;
    ASSERT_EQ(take(fd.get(), &v), 0);
    EXPECT_EQ(v, 5u) << "a refused read took something";
}

TEST(Eventfd, WritingAllOnesFailsWithEinval) {
    auto fd = make_eventfd(0, EFD_NONBLOCK);
    EXPECT_EQ(add(fd.get(), UINT64_MAX), EINVAL);
    EXPECT_EQ(add(fd.get(), kMax), 0) << "0xfffffffffffffffe is the largest value";
}

TEST(Eventfd, WriteThatWouldOverflowFailsWithEagainWhenNonblocking) {
    auto fd = make_eventfd(0, EFD_NONBLOCK);
    ASSERT_EQ(add(fd.get(), kMax), 0);
    EXPECT_EQ(add(fd.get(), 1), EAGAIN);
    std::uint64_t v = 0;
    ASSERT_EQ(take(fd.get(), &v), 0);
    EXPECT_EQ(v, kMax) << "the refused write changed the counter";
}

TEST(Eventfd, WriteThatWouldOverflowBlocksUntilAReadMakesRoom) {
    auto fd = make_eventfd(0, 0);
    ASSERT_EQ(add(fd.get(), kMax), 0);
    auto writer = kit::spawn([&] { return add(fd.get(), 1); });
    ASSERT_TRUE(kit::wait_in_syscall(writer.pid(), SYS_write)) << "the write did not block";
    std::uint64_t v = 0;
    ASSERT_EQ(take(fd.get(), &v), 0);  // resets to 0: room for the waiting write
    EXPECT_EQ(v, kMax);
    EXPECT_TRUE(writer.wait().ok());
    ASSERT_EQ(take(fd.get(), &v), 0);
    EXPECT_EQ(v, 1u);
}

TEST(Eventfd, PollSaysReadableWhenNonzeroAndWritableUntilFull) {
    auto fd = make_eventfd(0, EFD_NONBLOCK);
    EXPECT_EQ(ready_events(fd.get()), POLLOUT);
    ASSERT_EQ(add(fd.get(), 1), 0);
    EXPECT_EQ(ready_events(fd.get()), POLLIN | POLLOUT);
    ASSERT_EQ(add(fd.get(), kMax - 1), 0);  // now at the maximum
    EXPECT_EQ(ready_events(fd.get()), POLLIN);
}

TEST(Eventfd, InheritedAcrossForkItWakesAnotherProcess) {
    auto fd = make_eventfd(0, 0);
    auto sleeper = kit::spawn([&] {
        std::uint64_t v = 0;
        if (take(fd.get(), &v) != 0) return 100;
        return static_cast<int>(v);
    });
    ASSERT_TRUE(kit::wait_in_syscall(sleeper.pid(), SYS_read));
    ASSERT_EQ(add(fd.get(), 5), 0);
    const auto st = sleeper.wait();
    EXPECT_TRUE(st.exited_with(5)) << st.describe();
}

TEST(EventfdCrash, UnitTakenByAKilledProcessIsNotGivenBack) {
    auto fd = make_eventfd(1, EFD_SEMAPHORE | EFD_NONBLOCK);
    auto ready = kit::make_pipe();
    auto holder = kit::spawn([&] {
        std::uint64_t v = 0;
        if (take(fd.get(), &v) != 0) return 1;
        kit::write_all(ready.write.get(), std::as_bytes(std::span("x", 1)));
        ::pause();
        return 0;
    });
    ASSERT_TRUE(kit::wait_readable(ready.read.get()));
    ASSERT_EQ(::kill(holder.pid(), SIGKILL), 0);
    ASSERT_TRUE(holder.wait().killed_by(SIGKILL));
    std::uint64_t v = 0;
    EXPECT_EQ(take(fd.get(), &v), EAGAIN) << "the kernel gave the dead holder's unit back";
    EXPECT_EQ(ready_events(fd.get()), POLLOUT) << "not readable: the counter is 0";
}
