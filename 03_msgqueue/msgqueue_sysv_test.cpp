// Tests of chapter 03 (chapter03.*), System V part: every fact the lesson
// states about msgget/msgsnd/msgrcv/msgctl, proved with real processes.
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

// ======================= System V: unrelated processes, persistence =======================

TEST(MsgUnrelated, SenderAndReceiverProgramsMeetOnAnFtokKey) {
    auto keyfile = kit::unlink_guard(kit::unique_temp_path("msgkey"));
    kit::Fd(kit::check(::open(keyfile.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600), "open"));
    const key_t key = kit::check(::ftok(keyfile.c_str(), 'M'), "ftok");

    auto sent = kit::test::run_program(
        {kit::test::program_path("msg_sender"), keyfile.name(), "hello", "world"});
    auto guard = kit::msg_guard(::msgget(key, 0));  // -1 (nothing to remove) if none was made
    ASSERT_TRUE(sent.status.ok()) << sent.status.describe() << sent.err;
    // The sender has exited; its queue and both messages are still in the kernel.
    ASSERT_NE(guard.id(), -1) << std::strerror(errno);
    EXPECT_EQ(stat_queue(guard.id()).msg_qnum, 2u);

    auto got =
        kit::test::run_program({kit::test::program_path("msg_receiver"), keyfile.name(), "2"});
    ASSERT_TRUE(got.status.ok()) << got.status.describe() << got.err;
    EXPECT_EQ(got.out,
              "received type 1, 5 bytes: \"hello\"\nreceived type 1, 5 bytes: \"world\"\n"
              "removed queue " +
                  std::to_string(guard.id()) + "\n");
    errno = 0;
    EXPECT_EQ(::msgget(key, 0), -1);
    EXPECT_EQ(errno, ENOENT);
}

TEST(MsgUnrelated, FtokKeyIsOnlyProjByteDeviceByteAndLow16BitsOfTheInode) {
    auto file = kit::unlink_guard(kit::unique_temp_path("ftok"));
    kit::Fd(kit::check(::open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600), "open"));
    auto other_name = kit::unlink_guard(kit::unique_temp_path("ftok-link"));
    kit::check(::link(file.c_str(), other_name.c_str()), "link");
    struct stat st {};
    kit::check(::stat(file.c_str(), &st), "stat");
    const key_t key = kit::check(::ftok(file.c_str(), 'M'), "ftok");
    // 8 + 8 + 16 bits of identity (ftok(3) NOTES): files whose inode numbers
    // differ by a multiple of 65536 on devices with the same low byte collide.
    EXPECT_EQ(key,
              static_cast<key_t>(('M' << 24) | ((st.st_dev & 0xff) << 16) | (st.st_ino & 0xffff)));
    EXPECT_EQ(::ftok(other_name.c_str(), 'M'), key);  // the file counts, not its name
    EXPECT_EQ(::ftok(file.c_str(), 'M' + 256), key);  // only the low byte of proj counts
    EXPECT_NE(::ftok(file.c_str(), 'N'), key);
}

TEST(MsgPersistence, QueueAndMessagesOutliveTheProcessThatMadeThem) {
    auto p = kit::make_pipe();
    auto c = kit::spawn([&] {
        int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
        send(id, 1, "one");
        send(id, 2, "two");
        kit::write_all(p.write.get(), std::as_bytes(std::span(&id, 1)));
    });
    ASSERT_TRUE(c.wait().ok());  // the creator is gone
    int id = -1;
    ASSERT_EQ(kit::read_full(p.read.get(), std::as_writable_bytes(std::span(&id, 1))), sizeof id);
    auto guard = kit::msg_guard(id);

    // /proc/sysvipc/msg (what ipcs -q reads) lists it with its two messages.
    std::ifstream proc("/proc/sysvipc/msg");
    std::string line;
    bool listed = false;
    while (std::getline(proc, line)) {
        std::istringstream ss(line);
        std::string key, msqid, perms, cbytes, qnum;
        if (ss >> key >> msqid >> perms >> cbytes >> qnum && msqid == std::to_string(id)) {
            listed = true;
            EXPECT_EQ(cbytes, "6");
            EXPECT_EQ(qnum, "2");
        }
    }
    EXPECT_TRUE(listed);
    if (::access("/usr/bin/ipcs", X_OK) == 0) {
        auto ipcs = kit::test::run_program({"/usr/bin/ipcs", "-q"});
        const std::string column = ' ' + std::to_string(id) + ' ';
        EXPECT_NE(ipcs.out.find(column), std::string::npos) << ipcs.out;
    }
    EXPECT_EQ(take(id, 0), "1:one");
    EXPECT_EQ(take(id, 0), "2:two");
    kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
    msqid_ds ds{};
    EXPECT_EQ(::msgctl(id, IPC_STAT, &ds), -1);
    EXPECT_EQ(errno, EINVAL);
}

// ======================= System V: the message format =======================

TEST(MsgFormat, SizeArgumentCountsThePayloadOnly) {
    auto q = new_queue();
    Msg m{1, "hello"};
    kit::check(::msgsnd(q.id(), &m, 5, 0), "msgsnd");
    EXPECT_EQ(stat_queue(q.id()).__msg_cbytes, 5u);  // the long mtype is not counted
    Msg r{};
    EXPECT_EQ(::msgrcv(q.id(), &r, sizeof r.mtext, 0, IPC_NOWAIT), 5);
    EXPECT_EQ(r.mtype, 1);
    EXPECT_EQ(std::string(r.mtext, 5), "hello");
}

TEST(MsgFormat, SizeofStructSendsTheBytesBehindTheStruct) {
    struct Small {
        long mtype;
        char mtext[16];
    };
    struct Frame {
        Small msg;
        char neighbour[8];
    };
    auto q = new_queue();
    Frame f{{1, "payload"}, "SECRET!"};
    kit::check(::msgsnd(q.id(), &f, sizeof f.msg, 0), "msgsnd");  // the bug: sizeof the struct
    std::array<char, 64> buf{};
    std::array<long, 1 + 64 / sizeof(long)> in{};
    ssize_t n = kit::check(::msgrcv(q.id(), in.data(), buf.size(), 0, IPC_NOWAIT), "msgrcv");
    ASSERT_EQ(n, static_cast<ssize_t>(sizeof(long) + 16));
    std::memcpy(buf.data(), &in[1], static_cast<std::size_t>(n));
    EXPECT_STREQ(buf.data() + 16, "SECRET!");  // the neighbour travelled with the message
}

TEST(MsgFormat, TypeMustBePositive) {
    auto q = new_queue();
    for (long type : {0L, -1L, LONG_MIN}) {
        Msg m{type, "x"};
        errno = 0;
        EXPECT_EQ(::msgsnd(q.id(), &m, 1, IPC_NOWAIT), -1) << type;
        EXPECT_EQ(errno, EINVAL) << type;
    }
    EXPECT_EQ(stat_queue(q.id()).msg_qnum, 0u);
}

TEST(MsgFormat, MessagesAreVariableLengthIncludingEmpty) {
    auto q = new_queue();
    const long msgmax = proc_long("/proc/sys/kernel/msgmax");
    const std::array<std::size_t, 4> sizes{0, 1, 100,
                                           static_cast<std::size_t>(std::min(msgmax, 4000L))};
    std::vector<long> buf(1 + 4096 / sizeof(long));
    buf[0] = 1;
    for (auto s : sizes) kit::check(::msgsnd(q.id(), buf.data(), s, 0), "msgsnd");
    EXPECT_EQ(stat_queue(q.id()).__msg_cbytes, sizes[0] + sizes[1] + sizes[2] + sizes[3]);
    for (auto s : sizes)
        EXPECT_EQ(::msgrcv(q.id(), buf.data(), 4096, 0, IPC_NOWAIT), static_cast<ssize_t>(s));
}

// Note 001's Go program, written with the calls that exist: Go's syscall
// package has no Msgget or Msgsnd and no IPC_PRIVATE or IPC_CREAT, only the
// numbers SYS_MSGGET and SYS_MSGSND, so the program must make the raw calls
// syscall.Syscall(SYS_MSGGET, 0, 01000|0600, 0) and
// syscall.Syscall6(SYS_MSGSND, id, uintptr(unsafe.Pointer(&msg)), len(text), 0, 0, 0).
// These are the same calls, with the note's own struct and size.
TEST(MsgFormat, NoteGoExampleWorksAsRawMsggetAndMsgsndSystemCalls) {
    static_assert(IPC_PRIVATE == 0 && IPC_CREAT == 01000, "the constants Go must spell out");
    struct GoMessage {  // Type int64; Text [256]byte
        std::int64_t type;
        std::array<char, 256> text;
    };
    static_assert(sizeof(std::int64_t) == sizeof(long), "int64 is the C long mtype here");
    const long id = ::syscall(SYS_msgget, 0, 01000 | 0600);
    ASSERT_NE(id, -1) << std::strerror(errno);
    auto guard = kit::msg_guard(static_cast<int>(id));  // the note never removes its queue
    GoMessage msg{1, {}};
    const std::string_view text = "Hello from message queue";
    std::memcpy(msg.text.data(), text.data(), text.size());
    ASSERT_EQ(::syscall(SYS_msgsnd, id, &msg, text.size(), 0), 0) << std::strerror(errno);
    EXPECT_EQ(stat_queue(guard.id()).msg_qnum, 1u);
    EXPECT_EQ(take(guard.id(), 0), "1:Hello from message queue");  // len(text) was right
}

TEST(MsgCopy, ChangingTheBufferAfterMsgsndDoesNotChangeTheMessage) {
    auto q = new_queue();
    Msg m{1, "original"};
    kit::check(::msgsnd(q.id(), &m, 8, 0), "msgsnd");
    std::memcpy(m.mtext, "CHANGED!", 8);  // the kernel already holds its own copy
    auto c = kit::spawn([&] { return take(q.id(), 0) == "1:original" ? 0 : 3; });
    EXPECT_TRUE(c.wait().ok());
}

// ======================= System V: type selection =======================

class MsgTypeSelection : public ::testing::Test {
protected:
    void SetUp() override {
        send_from_child(q.id(), {{2, "b1"}, {1, "a1"}, {3, "c1"}, {2, "b2"}, {1, "a2"}, {3, "c2"}});
    }
    kit::SysvGuard q = new_queue();
};

TEST_F(MsgTypeSelection, ZeroTakesTheOldestMessageOfAnyType) {
    EXPECT_EQ(take(q.id(), 0), "2:b1");
    EXPECT_EQ(take(q.id(), 0), "1:a1");
    EXPECT_EQ(take(q.id(), 0), "3:c1");
}

TEST_F(MsgTypeSelection, PositiveTakesTheOldestMessageOfThatType) {
    EXPECT_EQ(take(q.id(), 3), "3:c1");
    EXPECT_EQ(take(q.id(), 3), "3:c2");
    EXPECT_EQ(take(q.id(), 3), "ENOMSG");
    EXPECT_EQ(take(q.id(), 4), "ENOMSG");
}

TEST_F(MsgTypeSelection, ExceptTakesTheOldestMessageOfAnyOtherType) {
    EXPECT_EQ(take(q.id(), 2, MSG_EXCEPT), "1:a1");
    EXPECT_EQ(take(q.id(), 1, MSG_EXCEPT), "2:b1");
    EXPECT_EQ(take(q.id(), 2, MSG_EXCEPT), "3:c1");
}

TEST_F(MsgTypeSelection, NegativeTakesTheLowestTypeUpToTheBoundFifoAmongEqualTypes) {
    std::vector<std::string> order;
    for (std::string s; (s = take(q.id(), -3)) != "ENOMSG";) order.push_back(s);
    EXPECT_EQ(order, (std::vector<std::string>{"1:a1", "1:a2", "2:b1", "2:b2", "3:c1", "3:c2"}));
}

TEST_F(MsgTypeSelection, NegativeIgnoresTypesAboveTheBound) {
    EXPECT_EQ(take(q.id(), -2), "1:a1");
    EXPECT_EQ(take(q.id(), -2), "1:a2");
    EXPECT_EQ(take(q.id(), -2), "2:b1");
    EXPECT_EQ(take(q.id(), -2), "2:b2");
    EXPECT_EQ(take(q.id(), -2), "ENOMSG");  // type 3 is still queued
    EXPECT_EQ(stat_queue(q.id()).msg_qnum, 2u);
}

// ======================= System V: "priority" =======================

TEST(MsgPriority, NoteExampleComesOutInArrivalOrderWithZeroAndLowestTypeFirstWithNegative) {
    auto q = new_queue();
    const std::vector<std::pair<long, std::string>> note{{10, "A"}, {10, "B"}, {5, "C"}, {1, "D"}};
    send_from_child(q.id(), note);
    std::string zero, negative;
    for (int i = 0; i < 4; ++i) zero += take(q.id(), 0) + " ";
    send_from_child(q.id(), note);
    for (int i = 0; i < 4; ++i) negative += take(q.id(), -LONG_MAX) + " ";
    EXPECT_EQ(zero, "10:A 10:B 5:C 1:D ");      // arrival order: types play no part
    EXPECT_EQ(negative, "1:D 5:C 10:A 10:B ");  // a big type is served LAST, not first
}

TEST(MsgPriority, ArrivalOrderIsNotPriorityOrderWithZero) {
    auto q = new_queue();
    send_from_child(q.id(), {{1, "D"}, {10, "A"}, {5, "C"}});
    EXPECT_EQ(take(q.id(), 0), "1:D");
    EXPECT_EQ(take(q.id(), 0), "10:A");
    EXPECT_EQ(take(q.id(), 0), "5:C");
}

TEST(MsgPriority, SmallTypesAsUrgentBuildAPriorityQueue) {
    constexpr long kUrgent = 1, kNormal = 2, kBackground = 3;
    auto q = new_queue();
    send_from_child(
        q.id(),
        {{kNormal, "n1"}, {kBackground, "bg"}, {kUrgent, "u1"}, {kNormal, "n2"}, {kUrgent, "u2"}});
    std::vector<std::string> order;
    for (std::string s; (s = take(q.id(), -kBackground)) != "ENOMSG";) order.push_back(s);
    EXPECT_EQ(order, (std::vector<std::string>{"1:u1", "1:u2", "2:n1", "2:n2", "3:bg"}));
}

TEST(MsgPriority, HighBitsOfMtypeAreNotAPriorityField) {
    if (sizeof(long) < 8) GTEST_SKIP() << "long is 32 bits here: no type above 2^32 exists";
    constexpr long kHigh2 = (2L << 32) + 7;  // the myth's "priority 2, type 7"
    constexpr long kHigh1 = (1L << 32) + 7;  // the myth's "priority 1, type 7"
    auto q = new_queue();
    send_from_child(q.id(), {{kHigh2, "X"}, {kHigh1, "Z"}, {7, "Y"}});
    // The kernel accepts the whole long and compares it whole.
    EXPECT_EQ(take(q.id(), 7), "7:Y");
    EXPECT_EQ(take(q.id(), 7), "ENOMSG");     // X and Z are not "type 7"
    EXPECT_EQ(take(q.id(), -100), "ENOMSG");  // nor any type <= 100
    // Negative msgtyp: the smaller whole value first, so "priority 1" beats "priority 2".
    EXPECT_EQ(take(q.id(), -LONG_MAX), std::to_string(kHigh1) + ":Z");
    EXPECT_EQ(take(q.id(), -LONG_MAX), std::to_string(kHigh2) + ":X");
}

// ======================= System V: request/reply on one queue =======================

TEST(MsgServer, RepliesTypedWithTheClientPidReachOnlyThatClient) {
    constexpr long kRequest = 1;
    constexpr int kClients = 4;
    auto q = new_queue();
    struct Req {
        long mtype;
        pid_t client;
    };
    struct Rep {
        long mtype;
        pid_t echoed;
    };
    std::vector<kit::Child> clients;
    for (int i = 0; i < kClients; ++i)
        clients.push_back(kit::spawn([&] {
            Req rq{kRequest, ::getpid()};
            kit::check(::msgsnd(q.id(), &rq, sizeof rq.client, 0), "msgsnd");
            alarm(5);
            Rep rp{};
            kit::check(::msgrcv(q.id(), &rp, sizeof rp.echoed, ::getpid(), 0), "msgrcv");
            return rp.mtype == ::getpid() && rp.echoed == ::getpid() ? 0 : 3;
        }));
    auto server = kit::spawn([&] {
        // Collect every request first, then answer in REVERSE order: each
        // client must still get its own reply, chosen by type.
        alarm(5);
        std::vector<pid_t> who;
        for (int i = 0; i < kClients; ++i) {
            Req rq{};
            kit::check(::msgrcv(q.id(), &rq, sizeof rq.client, kRequest, 0), "msgrcv");
            who.push_back(rq.client);
        }
        for (auto it = who.rbegin(); it != who.rend(); ++it) {
            Rep rp{*it, *it};
            kit::check(::msgsnd(q.id(), &rp, sizeof rp.echoed, 0), "msgsnd");
        }
    });
    EXPECT_TRUE(server.wait().ok());
    for (auto& c : clients) EXPECT_TRUE(c.wait().ok());
    EXPECT_EQ(stat_queue(q.id()).msg_qnum, 0u);
}
