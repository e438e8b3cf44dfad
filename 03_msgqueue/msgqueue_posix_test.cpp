// Tests of chapter 03 (chapter03.*), POSIX part: every fact the lesson
// states about mq_* queues (and where they differ from System V ones),
// proved with real processes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"

using namespace std::chrono_literals;

namespace {

// ---------- System V helpers (for the comparisons) ----------

// A fresh private queue, removed when the guard goes out of scope.
[[nodiscard]] kit::SysvGuard new_queue() {
    return kit::msg_guard(kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget"));
}

long proc_long(const std::string& path) {
    auto v = kit::read_long_file(path);
    if (!v) throw kit::SysError(ENOENT, "read " + path);
    return *v;
}

// ---------- POSIX helpers ----------

// A named POSIX queue, closed and unlinked when it goes out of scope.
struct PosixQueue {
    kit::NameGuard name;
    kit::Fd fd;  // an mqd_t is a file descriptor on Linux; close() == mq_close()
    [[nodiscard]] mqd_t q() const { return fd.get(); }
};

PosixQueue new_mq(long maxmsg = 8, long msgsize = 64, int extra_flags = 0) {
    auto name = kit::unique_posix_name("mq");
    mq_attr attr{};
    attr.mq_maxmsg = maxmsg;
    attr.mq_msgsize = msgsize;
    mqd_t q = kit::check(
        ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | extra_flags, 0600, &attr), "mq_open");
    return {kit::mq_unlink_guard(name), kit::Fd(q)};
}

std::string mq_take(mqd_t q, unsigned* prio = nullptr) {
    std::array<char, 64> buf{};
    ssize_t n = kit::check(::mq_receive(q, buf.data(), buf.size(), prio), "mq_receive");
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

timespec realtime_in(std::chrono::milliseconds ms) {
    timespec ts{};
    kit::check(::clock_gettime(CLOCK_REALTIME, &ts), "clock_gettime");
    long ns = ts.tv_nsec + static_cast<long>(ms.count() % 1000) * 1'000'000;
    ts.tv_sec += static_cast<time_t>(ms.count() / 1000 + ns / 1'000'000'000);
    ts.tv_nsec = ns % 1'000'000'000;
    return ts;
}

// Waits for SIGUSR1 (blocked by the caller) up to `timeout`; returns the
// signal's info, or si_signo == 0 if none came. No race: the kernel queues the
// notification inside the sender's mq_send, so once the sender has been reaped
// a signal is either pending already or was never sent; the timeout is slack.
siginfo_t wait_sigusr1(std::chrono::milliseconds timeout) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    timespec ts{static_cast<time_t>(timeout.count() / 1000), (timeout.count() % 1000) * 1'000'000};
    siginfo_t info{};
    int sig;
    do sig = ::sigtimedwait(&set, &info, &ts);
    while (sig == -1 && errno == EINTR);
    if (sig == -1) {
        if (errno != EAGAIN) throw kit::SysError(errno, "sigtimedwait");
        info.si_signo = 0;
    }
    return info;
}

// Blocks SIGUSR1 for the test's lifetime (so a notification waits for
// sigtimedwait) and discards any left pending on the way out.
struct BlockSigusr1 {
    sigset_t set{};
    BlockSigusr1() {
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        kit::check_err(::pthread_sigmask(SIG_BLOCK, &set, nullptr), "pthread_sigmask");
    }
    ~BlockSigusr1() {
        timespec zero{0, 0};
        while (::sigtimedwait(&set, nullptr, &zero) == SIGUSR1) {
        }
        ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    }
};

void arm_sigusr1(mqd_t q) {
    sigevent sev{};
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    kit::check(::mq_notify(q, &sev), "mq_notify");
}

pid_t mq_send_from_child(mqd_t q, std::string_view text, unsigned prio = 0) {
    pid_t pid = 0;
    auto c =
        kit::spawn([&] { kit::check(::mq_send(q, text.data(), text.size(), prio), "mq_send"); });
    pid = c.pid();
    EXPECT_TRUE(c.wait().ok());
    return pid;
}

}  // namespace

// ======================= POSIX: names, priorities =======================

TEST(MqNames, AnotherProcessOpensTheQueueByNameAndItOutlivesTheCreator) {
    auto name = kit::unique_posix_name("mq-named");
    auto guard = kit::mq_unlink_guard(name);
    auto creator = kit::spawn([&] {
        mq_attr attr{};
        attr.mq_maxmsg = 4;
        attr.mq_msgsize = 64;
        mqd_t q = kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600, &attr),
                             "mq_open");
        kit::check(::mq_send(q, "left behind", 11, 1), "mq_send");
        // exits without mq_close or mq_unlink
    });
    ASSERT_TRUE(creator.wait().ok());
    kit::Fd q(kit::check(::mq_open(name.c_str(), O_RDONLY), "mq_open"));
    EXPECT_EQ(mq_take(q.get()), "left behind");
    kit::check(::mq_unlink(name.c_str()), "mq_unlink");
    errno = 0;
    EXPECT_EQ(::mq_open(name.c_str(), O_RDONLY), mqd_t(-1));
    EXPECT_EQ(errno, ENOENT);
}

TEST(MqPriority, HighestPriorityFirstFifoWithinAPriority) {
    auto q = new_mq();
    auto c = kit::spawn([&] {
        const std::array<std::pair<unsigned, const char*>, 5> sent{
            {{0, "low-1"}, {5, "mid-1"}, {9, "high"}, {5, "mid-2"}, {0, "low-2"}}};
        for (auto [prio, text] : sent)
            kit::check(::mq_send(q.q(), text, std::strlen(text), prio), "mq_send");
    });
    ASSERT_TRUE(c.wait().ok());
    std::string order;
    for (int i = 0; i < 5; ++i) {
        unsigned prio = 0;
        std::string text = mq_take(q.q(), &prio);
        order += text + "(" + std::to_string(prio) + ") ";
    }
    EXPECT_EQ(order, "high(9) mid-1(5) mid-2(5) low-1(0) low-2(0) ");
}

TEST(MqPriority, PriorityMustBeBelowMqPrioMax) {
    const long prio_max = kit::check(::sysconf(_SC_MQ_PRIO_MAX), "sysconf");
    EXPECT_GE(prio_max, 32);  // POSIX minimum
    auto q = new_mq();
    EXPECT_EQ(::mq_send(q.q(), "a", 1, static_cast<unsigned>(prio_max - 1)), 0);
    errno = 0;
    EXPECT_EQ(::mq_send(q.q(), "b", 1, static_cast<unsigned>(prio_max)), -1);
    EXPECT_EQ(errno, EINVAL);
}

// ======================= POSIX: attributes and limits =======================

TEST(MqAttributes, DefaultsComeFromMsgDefaultAndMsgsizeDefault) {
    auto name = kit::unique_posix_name("mq-default");
    kit::Fd q(
        kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, nullptr), "mq_open"));
    auto guard = kit::mq_unlink_guard(name);
    mq_attr attr{};
    kit::check(::mq_getattr(q.get(), &attr), "mq_getattr");
    // mq_overview(7): the default, capped at the matching maximum.
    EXPECT_EQ(attr.mq_maxmsg, std::min(proc_long("/proc/sys/fs/mqueue/msg_default"),
                                       proc_long("/proc/sys/fs/mqueue/msg_max")));
    EXPECT_EQ(attr.mq_msgsize, std::min(proc_long("/proc/sys/fs/mqueue/msgsize_default"),
                                        proc_long("/proc/sys/fs/mqueue/msgsize_max")));
    EXPECT_EQ(attr.mq_curmsgs, 0);
}

TEST(MqAttributes, ReceiveBufferSmallerThanMsgsizeIsEmsgsizeEvenForAShortMessage) {
    auto q = new_mq(4, 64);
    mq_send_from_child(q.q(), "hi");
    std::array<char, 63> buf{};
    errno = 0;
    EXPECT_EQ(::mq_receive(q.q(), buf.data(), buf.size(), nullptr), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    mq_attr attr{};
    kit::check(::mq_getattr(q.q(), &attr), "mq_getattr");
    EXPECT_EQ(attr.mq_curmsgs, 1);  // still there
    EXPECT_EQ(mq_take(q.q()), "hi");
}

TEST(MqAttributes, SendLargerThanMsgsizeIsEmsgsize) {
    auto q = new_mq(4, 64);
    std::string big(65, 'x');
    errno = 0;
    EXPECT_EQ(::mq_send(q.q(), big.data(), big.size(), 0), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    EXPECT_EQ(::mq_send(q.q(), big.data(), 64, 0), 0);
}

TEST(MqAttributes, MaxmsgAboveMsgMaxIsEinvalWithoutCapSysResource) {
    const long msg_max = proc_long("/proc/sys/fs/mqueue/msg_max");
    auto name = kit::unique_posix_name("mq-big");
    auto guard = kit::mq_unlink_guard(name);
    mq_attr attr{};
    attr.mq_maxmsg = msg_max + 1;
    attr.mq_msgsize = 16;
    errno = 0;
    mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (kit::has_capability(kit::kCapSysResource)) {
        EXPECT_NE(q, mqd_t(-1)) << "with CAP_SYS_RESOURCE the hard limit (65536) applies: "
                                << std::strerror(errno);
    } else {
        EXPECT_EQ(q, mqd_t(-1));
        EXPECT_EQ(errno, EINVAL);
    }
    if (q != mqd_t(-1)) ::mq_close(q);
}

TEST(MqAttributes, MsgsizeAboveMsgsizeMaxOrZeroMaxmsgIsEinval) {
    if (kit::has_capability(kit::kCapSysResource))
        GTEST_SKIP() << "this process has CAP_SYS_RESOURCE: msgsize_max does not bind it";
    const long size_max = proc_long("/proc/sys/fs/mqueue/msgsize_max");
    for (auto [maxmsg, msgsize] :
         {std::pair{1L, size_max + 1}, std::pair{0L, 16L}, std::pair{1L, 0L}}) {
        auto name = kit::unique_posix_name("mq-bad");
        auto guard = kit::mq_unlink_guard(name);
        mq_attr attr{};
        attr.mq_maxmsg = maxmsg;
        attr.mq_msgsize = msgsize;
        errno = 0;
        EXPECT_EQ(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr), mqd_t(-1))
            << maxmsg << " x " << msgsize;
        EXPECT_EQ(errno, EINVAL);
    }
}

TEST(MqAttributes, RlimitMsgqueueBoundsTheBytesAUserMayReserve) {
    // In a child, so lowering the limit does not affect the other tests.
    auto c = kit::spawn([] {
        rlimit rl{4096, 4096};
        kit::check(::setrlimit(RLIMIT_MSGQUEUE, &rl), "setrlimit");
        auto name = kit::unique_posix_name("mq-rlimit");
        auto guard = kit::mq_unlink_guard(name);
        mq_attr attr{};
        attr.mq_maxmsg = 8;
        attr.mq_msgsize = 1024;  // 8 KiB of messages > 4 KiB allowed
        mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        return q == mqd_t(-1) && errno == EMFILE ? 0 : 3;
    });
    EXPECT_TRUE(c.wait().ok());
}

// ======================= POSIX: timed and non-blocking =======================

TEST(MqTimed, TimedReceiveOnAnEmptyQueueIsEtimedout) {
    auto q = new_mq();
    std::array<char, 64> buf{};
    timespec deadline = realtime_in(50ms);
    errno = 0;
    EXPECT_EQ(::mq_timedreceive(q.q(), buf.data(), buf.size(), nullptr, &deadline), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
}

TEST(MqTimed, AWaitingMessageIsReturnedEvenPastTheDeadline) {
    auto q = new_mq();
    mq_send_from_child(q.q(), "here");
    std::array<char, 64> buf{};
    timespec past{0, 0};  // 1970: the deadline only matters if the call would block
    EXPECT_EQ(::mq_timedreceive(q.q(), buf.data(), buf.size(), nullptr, &past), 4);
}

TEST(MqTimed, NonblockingReceiveOnAnEmptyQueueIsEagain) {
    auto q = new_mq(8, 64, O_NONBLOCK);
    std::array<char, 64> buf{};
    errno = 0;
    EXPECT_EQ(::mq_receive(q.q(), buf.data(), buf.size(), nullptr), -1);
    EXPECT_EQ(errno, EAGAIN);
}

TEST(MqTimed, FullQueueIsEagainNonblockingAndEtimedoutTimed) {
    auto q = new_mq(2, 64);
    kit::check(::mq_send(q.q(), "1", 1, 0), "mq_send");
    kit::check(::mq_send(q.q(), "2", 1, 0), "mq_send");
    timespec deadline = realtime_in(50ms);
    errno = 0;
    EXPECT_EQ(::mq_timedsend(q.q(), "3", 1, 0, &deadline), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
    mq_attr nb{};
    nb.mq_flags = O_NONBLOCK;  // mq_setattr changes only this flag
    kit::check(::mq_setattr(q.q(), &nb, nullptr), "mq_setattr");
    errno = 0;
    EXPECT_EQ(::mq_send(q.q(), "3", 1, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
}

// ======================= POSIX: notification =======================

TEST(MqNotify, SignalArrivesWhenAMessageEntersAnEmptyQueue) {
    BlockSigusr1 blocked;
    auto q = new_mq();
    arm_sigusr1(q.q());
    pid_t sender = mq_send_from_child(q.q(), "1");
    siginfo_t info = wait_sigusr1(2s);
    EXPECT_EQ(info.si_signo, SIGUSR1);
    EXPECT_EQ(info.si_code, SI_MESGQ);
    EXPECT_EQ(info.si_pid, sender);
}

TEST(MqNotify, RegistrationIsOneShotUntilReArmed) {
    BlockSigusr1 blocked;
    auto q = new_mq();
    arm_sigusr1(q.q());
    mq_send_from_child(q.q(), "1");
    ASSERT_EQ(wait_sigusr1(2s).si_signo, SIGUSR1);
    EXPECT_EQ(mq_take(q.q()), "1");  // empty again

    mq_send_from_child(q.q(), "2");
    EXPECT_EQ(wait_sigusr1(100ms).si_signo, 0);  // registration was used up
    EXPECT_EQ(mq_take(q.q()), "2");

    arm_sigusr1(q.q());
    mq_send_from_child(q.q(), "3");
    EXPECT_EQ(wait_sigusr1(2s).si_signo, SIGUSR1);
}

TEST(MqNotify, NoSignalWhenTheQueueWasNotEmpty) {
    BlockSigusr1 blocked;
    auto q = new_mq();
    mq_send_from_child(q.q(), "already there");
    arm_sigusr1(q.q());
    mq_send_from_child(q.q(), "second");
    EXPECT_EQ(wait_sigusr1(100ms).si_signo, 0);
    EXPECT_EQ(mq_take(q.q()), "already there");
    EXPECT_EQ(mq_take(q.q()), "second");
}

TEST(MqNotify, OnlyOneProcessMayBeRegistered) {
    BlockSigusr1 blocked;
    auto q = new_mq();
    arm_sigusr1(q.q());
    auto other = kit::spawn([&] {
        sigevent sev{};
        sev.sigev_notify = SIGEV_NONE;
        return ::mq_notify(q.q(), &sev) == -1 && errno == EBUSY ? 0 : 3;
    });
    EXPECT_TRUE(other.wait().ok());
    kit::check(::mq_notify(q.q(), nullptr), "mq_notify(NULL)");  // unregister: now it is free
    auto third = kit::spawn([&] {
        sigevent sev{};
        sev.sigev_notify = SIGEV_NONE;
        return ::mq_notify(q.q(), &sev) == 0 ? 0 : 3;
    });
    EXPECT_TRUE(third.wait().ok());
}

// ======================= POSIX: poll and epoll =======================

TEST(MqPoll, PollinOnlyWhenAMessageWaitsPolloutOnlyWhenThereIsRoom) {
    auto q = new_mq(1, 64);
    EXPECT_EQ(kit::wait_for_events(q.q(), POLLIN, 0ms), 0);
    EXPECT_EQ(kit::wait_for_events(q.q(), POLLOUT, 0ms) & POLLOUT, POLLOUT);
    mq_send_from_child(q.q(), "x");
    EXPECT_EQ(kit::wait_for_events(q.q(), POLLIN, 0ms) & POLLIN, POLLIN);
    EXPECT_EQ(kit::wait_for_events(q.q(), POLLOUT, 0ms), 0);  // full (mq_maxmsg = 1)
}

TEST(MqPoll, PollWakesWhenAnotherProcessSends) {
    auto q = new_mq();
    auto go = kit::make_pipe();
    auto sender = kit::spawn([&] {
        char c;
        if (kit::read_full(go.read.get(), std::as_writable_bytes(std::span(&c, 1))) != 1) return 3;
        kit::check(::mq_send(q.q(), "ping", 4, 0), "mq_send");
        return 0;
    });
    EXPECT_FALSE(kit::wait_readable(q.q(), 0ms));
    kit::write_all(go.write.get(), std::as_bytes(std::span("g", 1)));
    EXPECT_TRUE(kit::wait_readable(q.q(), kit::kDeadline));
    EXPECT_EQ(mq_take(q.q()), "ping");
    EXPECT_TRUE(sender.wait().ok());
}

TEST(MqPoll, EpollWatchesAQueueDescriptor) {
    auto q = new_mq();
    kit::Fd ep(kit::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = q.q();
    kit::check(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, q.q(), &ev), "epoll_ctl");
    epoll_event out{};
    EXPECT_EQ(::epoll_wait(ep.get(), &out, 1, 0), 0);
    mq_send_from_child(q.q(), "x");
    EXPECT_EQ(::epoll_wait(ep.get(), &out, 1, 5000), 1);
    EXPECT_EQ(out.data.fd, q.q());
    EXPECT_TRUE(out.events & EPOLLIN);
}

// ======================= the two APIs side by side =======================

namespace {
std::size_t open_fd_count() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}
}  // namespace

TEST(MqVersusMsg, MqOpenGivesAFileDescriptorMsggetDoesNot) {
    const std::size_t before = open_fd_count();
    auto sysv = new_queue();
    EXPECT_EQ(open_fd_count(), before);  // an msqid is only a number: nothing to poll
    auto posix = new_mq();
    EXPECT_EQ(open_fd_count(), before + 1);
    EXPECT_NE(::fcntl(posix.q(), F_GETFD), -1);
}

TEST(MqNames, UnlinkRemovesTheNameButOpenDescriptorsKeepWorking) {
    auto q = new_mq();
    auto receiver = kit::spawn([&] {  // blocked in mq_receive while the name goes away
        alarm(5);
        return mq_take(q.q()) == "still here" ? 0 : 3;
    });
    ASSERT_TRUE(kit::wait_until_blocked(receiver.pid(), "wq_sleep"));
    kit::check(::mq_unlink(q.name.c_str()), "mq_unlink");
    errno = 0;
    EXPECT_EQ(::mq_open(q.name.c_str(), O_RDWR), mqd_t(-1));
    EXPECT_EQ(errno, ENOENT);
    kit::check(::mq_send(q.q(), "still here", 10, 0), "mq_send");  // through the open descriptor
    auto st = receiver.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(MqNames, MqOpenNeedsNoMountedDevMqueue) {
    auto mounts = kit::read_text_file("/proc/self/mounts").value_or("");
    if (mounts.find(" mqueue ") != std::string::npos)
        GTEST_SKIP()
            << "an mqueue filesystem is mounted here: the premise (none mounted) does not hold";
    auto q = new_mq();  // works: the kernel's internal mqueue mount serves every mq_open
    kit::check(::mq_send(q.q(), "x", 1, 0), "mq_send");
    EXPECT_EQ(mq_take(q.q()), "x");
}

TEST(MqNotify, ABlockedReceiverTakesTheMessageAndTheRegistrationStays) {
    BlockSigusr1 blocked;
    auto q = new_mq();
    arm_sigusr1(q.q());
    auto receiver = kit::spawn([&] {
        alarm(5);
        return mq_take(q.q()) == "for the receiver" ? 0 : 3;
    });
    ASSERT_TRUE(kit::wait_until_blocked(receiver.pid(), "wq_sleep"));  // inside mq_receive
    mq_send_from_child(q.q(), "for the receiver");
    EXPECT_TRUE(receiver.wait().ok());
    EXPECT_EQ(wait_sigusr1(100ms).si_signo, 0);  // no notification for that message
    mq_send_from_child(q.q(), "next");           // still registered: this one notifies
    EXPECT_EQ(wait_sigusr1(2s).si_signo, SIGUSR1);
}
