// Tests of chapter 03 (chapter03.*), System V part 2: the limits of a queue
// and the errors of msgrcv, proved with real processes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
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
#include "msgqueue_sysv_test_util.hpp"

using namespace std::chrono_literals;

using namespace ch03::test;

// ======================= System V: limits =======================

TEST(MsgLimits, NewQueueQbytesIsMsgmnb) {
    auto q = new_queue();
    EXPECT_EQ(static_cast<long>(stat_queue(q.id()).msg_qbytes),
              proc_long("/proc/sys/kernel/msgmnb"));
}

TEST(MsgLimits, MessageAboveMsgmaxIsEinval) {
    const long msgmax = proc_long("/proc/sys/kernel/msgmax");
    if (msgmax > proc_long("/proc/sys/kernel/msgmnb")) GTEST_SKIP() << "msgmax > msgmnb here";
    auto q = new_queue();
    std::vector<long> buf(2 + static_cast<std::size_t>(msgmax) / sizeof(long));
    buf[0] = 1;
    errno = 0;
    EXPECT_EQ(::msgsnd(q.id(), buf.data(), static_cast<std::size_t>(msgmax) + 1, IPC_NOWAIT), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(::msgsnd(q.id(), buf.data(), static_cast<std::size_t>(msgmax), IPC_NOWAIT), 0);
}

TEST(MsgLimits, FullQueueGivesEagainWithIpcNowait) {
    auto q = new_queue();
    const auto qbytes = stat_queue(q.id()).msg_qbytes;
    std::vector<long> buf(1 + 1000 / sizeof(long) + 1);
    buf[0] = 1;
    unsigned long sent = 0;
    while (::msgsnd(q.id(), buf.data(), 1000, IPC_NOWAIT) == 0) ++sent;
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(sent, qbytes / 1000);  // bytes, not a count of slots, decide
}

TEST(MsgLimits, FullQueueBlocksTheSenderUntilAReceiverMakesRoom) {
    auto q = new_queue();
    msqid_ds ds = stat_queue(q.id());
    ds.msg_qbytes = 10;  // lowering needs no privilege
    kit::check(::msgctl(q.id(), IPC_SET, &ds), "msgctl(IPC_SET)");
    send(q.id(), 1, "0123456789");  // full

    auto sender = kit::spawn([&] {
        alarm(5);
        send(q.id(), 2, "next");  // no IPC_NOWAIT: waits for room
    });
    ASSERT_TRUE(kit::wait_until_blocked(sender.pid(), "msgsnd"));
    int ws = 0;
    EXPECT_EQ(::waitpid(sender.pid(), &ws, WNOHANG), 0);  // still inside msgsnd
    EXPECT_EQ(take(q.id(), 0), "1:0123456789");
    EXPECT_TRUE(sender.wait().ok());
    EXPECT_EQ(take(q.id(), 0), "2:next");
}

TEST(MsgLimits, QbytesAlsoBoundsTheNumberOfMessages) {
    auto q = new_queue();
    msqid_ds ds = stat_queue(q.id());
    ds.msg_qbytes = 50;
    kit::check(::msgctl(q.id(), IPC_SET, &ds), "msgctl(IPC_SET)");
    Msg m{1, {}};
    unsigned long sent = 0;
    while (::msgsnd(q.id(), &m, 0, IPC_NOWAIT) == 0) ++sent;  // empty messages
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(sent, 50u);
}

TEST(MsgLimits, RaisingQbytesAboveMsgmnbNeedsCapSysResource) {
    if (kit::has_capability(kit::kCapSysResource))
        GTEST_SKIP() << "this process has CAP_SYS_RESOURCE: the limit does not apply to it";
    auto q = new_queue();
    msqid_ds ds = stat_queue(q.id());
    ds.msg_qbytes = static_cast<msglen_t>(proc_long("/proc/sys/kernel/msgmnb") + 1);
    errno = 0;
    EXPECT_EQ(::msgctl(q.id(), IPC_SET, &ds), -1);
    EXPECT_EQ(errno, EPERM);
}

// ======================= System V: receive errors =======================

TEST(MsgErrors, EmptyQueueWithIpcNowaitIsEnomsg) {
    auto q = new_queue();
    Msg m{};
    errno = 0;
    EXPECT_EQ(::msgrcv(q.id(), &m, sizeof m.mtext, 0, IPC_NOWAIT), -1);
    EXPECT_EQ(errno, ENOMSG);
}

TEST(MsgErrors, TooSmallBufferIsE2bigAndTheMessageStays) {
    auto q = new_queue();
    send_from_child(q.id(), {{1, "hello world"}});
    Msg m{};
    errno = 0;
    EXPECT_EQ(::msgrcv(q.id(), &m, 5, 0, IPC_NOWAIT), -1);
    EXPECT_EQ(errno, E2BIG);
    EXPECT_EQ(stat_queue(q.id()).msg_qnum, 1u);
    EXPECT_EQ(take(q.id(), 0), "1:hello world");
}

TEST(MsgErrors, MsgNoerrorTruncatesAndDiscardsTheRest) {
    auto q = new_queue();
    send_from_child(q.id(), {{1, "hello world"}, {2, "next"}});
    Msg m{};
    EXPECT_EQ(::msgrcv(q.id(), &m, 5, 0, IPC_NOWAIT | MSG_NOERROR), 5);
    EXPECT_EQ(std::string(m.mtext, 5), "hello");
    EXPECT_EQ(take(q.id(), 0), "2:next");  // " world" is gone
}

TEST(MsgErrors, RemovingTheQueueWakesABlockedReceiverWithEidrm) {
    auto q = new_queue();
    auto receiver = kit::spawn([&] {
        alarm(5);
        Msg m{};
        ssize_t n = ::msgrcv(q.id(), &m, sizeof m.mtext, 0, 0);
        return n == -1 && errno == EIDRM ? 0 : 3;
    });
    ASSERT_TRUE(kit::wait_until_blocked(receiver.pid(), "msgrcv"));
    kit::check(::msgctl(q.id(), IPC_RMID, nullptr), "msgctl(IPC_RMID)");
    auto st = receiver.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}
