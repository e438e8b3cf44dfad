// Tests of chapter 03 (chapter03.*), crash lab: what a message queue's users
// see, and what is left in the system, when a sender or receiver is killed at
// the step that matters; and how the lesson programs clean up when stopped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
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

struct Msg {
    long mtype;
    char mtext[64];
};

void send(int id, std::string_view text) {
    Msg m{1, {}};
    std::memcpy(m.mtext, text.data(), text.size());
    kit::check(::msgsnd(id, &m, text.size(), IPC_NOWAIT), "msgsnd");
}

// The text of one message (never blocking), or "ENOMSG".
std::string take(int id) {
    Msg m{};
    ssize_t n = ::msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT);
    if (n == -1 && errno == ENOMSG) return "ENOMSG";
    kit::check(n, "msgrcv");
    return std::string(m.mtext, static_cast<std::size_t>(n));
}

// msg_qnum of queue `id` as /proc/sysvipc/msg (what ipcs -q reads) lists it,
// or nothing if the id is not listed.
std::optional<long> listed_qnum(int id) {
    std::ifstream proc("/proc/sysvipc/msg");
    std::string line;
    while (std::getline(proc, line)) {
        std::istringstream ss(line);
        long key = 0, msqid = 0, cbytes = 0, qnum = 0;
        std::string perms;
        if (ss >> key >> msqid >> perms >> cbytes >> qnum && msqid == id) return qnum;
    }
    return std::nullopt;
}

// A key file (removed at scope exit) and the ftok key of it with the byte
// msg_sender and msg_receiver use.
struct KeyFile {
    kit::NameGuard path = kit::unlink_guard(kit::unique_temp_path("msgkey"));
    key_t key = -1;
    KeyFile() {
        kit::Fd(kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600), "open"));
        key = kit::check(::ftok(path.c_str(), 'M'), "ftok");
    }
};

// One byte through a pipe: "I am at the step" (child → parent).
void tell(int fd) {
    const std::byte b{1};
    kit::write_all(fd, std::span(&b, 1));
}
[[nodiscard]] bool heard(int fd) {
    std::byte b{};
    return kit::wait_readable(fd) && kit::read_full(fd, std::span(&b, 1)) == 1;
}
// Blocks the child at its step until it is killed (bounded: a forgotten
// child ends by itself after kDeadline).
void hold(int fd) { (void)kit::wait_readable(fd); }

// A child running a lesson program with these arguments, stdout to `out`.
kit::Child start_program(const std::vector<std::string>& argv, int out) {
    return kit::spawn([&] {
        kit::check(::dup2(out, STDOUT_FILENO), "dup2");
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        return 127;
    });
}

std::string read_all(int fd) {
    std::string s;
    std::array<std::byte, 512> buf{};
    while (kit::wait_readable(fd)) {
        std::size_t n = kit::read_full(fd, buf);
        if (n == 0) break;
        s.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    return s;
}

}  // namespace

// ======================= System V: killed users =======================

TEST(MsgCrash, KeyedQueueOutlivesAKilledSenderAndReceiverWithItsMessages) {
    KeyFile kf;
    auto steps = kit::make_pipe();
    auto never = kit::make_pipe();  // nobody writes: the children block reading it
    auto sender = kit::spawn([&] {
        int id = kit::check(::msgget(kf.key, IPC_CREAT | 0600), "msgget");
        send(id, "one");
        send(id, "two");
        tell(steps.write.get());  // step: both sent
        hold(never.read.get());
    });
    ASSERT_TRUE(heard(steps.read.get()));
    ASSERT_EQ(::kill(sender.pid(), SIGKILL), 0);
    EXPECT_TRUE(sender.wait().killed_by(SIGKILL));
    const int id = ::msgget(kf.key, 0);
    ASSERT_NE(id, -1) << std::strerror(errno);
    auto guard = kit::msg_guard(id);

    auto receiver = kit::spawn([&] {
        int rid = kit::check(::msgget(kf.key, 0), "msgget");
        if (take(rid) != "one") return 3;
        tell(steps.write.get());  // step: received one of two
        hold(never.read.get());
        return 0;
    });
    ASSERT_TRUE(heard(steps.read.get()));
    ASSERT_EQ(::kill(receiver.pid(), SIGKILL), 0);
    EXPECT_TRUE(receiver.wait().killed_by(SIGKILL));

    // Both users are dead; the queue and the unread message are still there.
    EXPECT_EQ(listed_qnum(id), 1);
    EXPECT_EQ(::msgget(kf.key, 0), id);  // the next program finds it by its key
    EXPECT_EQ(take(id), "two");
    kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
    EXPECT_EQ(listed_qnum(id), std::nullopt);
    EXPECT_EQ(::msgget(kf.key, 0), -1);
    EXPECT_EQ(errno, ENOENT);
}

TEST(MsgCrash, ReceiverKilledInMsgrcvLeavesTheMessageForTheNextReceiver) {
    auto q = kit::msg_guard(kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget"));
    auto receiver = kit::spawn([&] {
        Msg m{};
        alarm(5);
        return ::msgrcv(q.id(), &m, sizeof m.mtext, 0, 0) == -1 ? 3 : 4;
    });
    ASSERT_TRUE(kit::wait_until_blocked(receiver.pid(), "msgrcv"));
    ASSERT_EQ(::kill(receiver.pid(), SIGKILL), 0);
    EXPECT_TRUE(receiver.wait().killed_by(SIGKILL));

    send(q.id(), "for whoever comes next");
    EXPECT_EQ(listed_qnum(q.id()), 1);  // the dead waiter took nothing with it
    auto next = kit::spawn([&] { return take(q.id()) == "for whoever comes next" ? 0 : 3; });
    EXPECT_TRUE(next.wait().ok());
    EXPECT_EQ(listed_qnum(q.id()), 0);
}

// The recovery patterns. IPC_RMID cannot be done early: unlike mq_unlink (and
// unlike shmctl's IPC_RMID on an attached segment) it destroys the queue at
// once, for the processes that still hold its id too.
TEST(MsgCrash, IpcRmidIsNotDeferredSoItCannotBeDoneRightAfterBothSidesOpened) {
    KeyFile kf;
    int id = kit::check(::msgget(kf.key, IPC_CREAT | 0600), "msgget");
    auto guard = kit::msg_guard(id);
    auto other = kit::spawn([&] {  // the other side has the id already
        int oid = kit::check(::msgget(kf.key, 0), "msgget");
        Msg m{};
        alarm(5);
        ssize_t n = ::msgrcv(oid, &m, sizeof m.mtext, 0, 0);
        return n == -1 && errno == EIDRM ? 0 : 3;
    });
    ASSERT_TRUE(kit::wait_until_blocked(other.pid(), "msgrcv"));
    kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
    EXPECT_TRUE(other.wait().ok()) << "the waiting side must wake with EIDRM";
    Msg m{1, {'x'}};
    EXPECT_EQ(::msgsnd(id, &m, 1, IPC_NOWAIT), -1);  // gone for this side too
    EXPECT_EQ(errno, EINVAL);
}

// So a keyed queue left by a killed program is removed by the next start:
// msgget(key, 0) finds it, IPC_RMID removes it, IPC_CREAT | IPC_EXCL makes a fresh one.
TEST(MsgCrash, TheNextStartRemovesAStaleKeyedQueueAndCreatesAFreshOne) {
    KeyFile kf;
    auto steps = kit::make_pipe();
    auto never = kit::make_pipe();
    auto crashed = kit::spawn([&] {
        int id = kit::check(::msgget(kf.key, IPC_CREAT | 0600), "msgget");
        send(id, "stale");
        tell(steps.write.get());
        hold(never.read.get());
    });
    ASSERT_TRUE(heard(steps.read.get()));
    ASSERT_EQ(::kill(crashed.pid(), SIGKILL), 0);
    EXPECT_TRUE(crashed.wait().killed_by(SIGKILL));

    const int stale = ::msgget(kf.key, 0);
    ASSERT_NE(stale, -1);
    auto stale_guard = kit::msg_guard(stale);
    EXPECT_EQ(::msgget(kf.key, IPC_CREAT | IPC_EXCL | 0600), -1);  // the key is taken
    EXPECT_EQ(errno, EEXIST);
    kit::check(::msgctl(stale, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
    const int fresh = kit::check(::msgget(kf.key, IPC_CREAT | IPC_EXCL | 0600), "msgget");
    auto fresh_guard = kit::msg_guard(fresh);
    EXPECT_EQ(listed_qnum(fresh), 0);  // no stale message
    EXPECT_EQ(listed_qnum(stale), std::nullopt);
}

// ======================= System V: the lesson programs stopped =======================

TEST(MsgCrash, ReceiverProgramRemovesTheQueueOnSigintOrSigtermAndSigkillLeavesIt) {
    for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
        KeyFile kf;
        auto out = kit::make_pipe();
        auto r = start_program({kit::test::program_path("msg_receiver"), kf.path.name(), "1"},
                               out.write.get());
        out.write.reset();
        ASSERT_TRUE(kit::wait_until_blocked(r.pid(), "msgrcv")) << strsignal(sig);
        const int id = ::msgget(kf.key, 0);
        ASSERT_NE(id, -1);
        auto guard = kit::msg_guard(id);
        ASSERT_EQ(::kill(r.pid(), sig), 0);
        const auto st = r.wait();
        if (sig == SIGKILL) {
            EXPECT_TRUE(st.killed_by(SIGKILL)) << st.describe();
            EXPECT_EQ(listed_qnum(id), 0) << "SIGKILL cannot be caught: the queue stays";
        } else {
            EXPECT_TRUE(st.exited_with(128 + sig)) << strsignal(sig) << ": " << st.describe();
            EXPECT_EQ(read_all(out.read.get()), "stopped by signal " + std::to_string(sig) +
                                                    ", removed queue " + std::to_string(id) + "\n");
            EXPECT_EQ(listed_qnum(id), std::nullopt) << strsignal(sig);
        }
    }
}

TEST(MsgCrash, SenderProgramBlockedOnAFullQueueRemovesItOnSigintOrSigterm) {
    for (int sig : {SIGINT, SIGTERM}) {
        KeyFile kf;
        const int id = kit::check(::msgget(kf.key, IPC_CREAT | 0600), "msgget");
        auto guard = kit::msg_guard(id);
        Msg m{1, {}};
        while (::msgsnd(id, &m, sizeof m.mtext, IPC_NOWAIT) == 0) {
        }
        ASSERT_EQ(errno, EAGAIN);  // full: the sender will block in msgsnd
        auto out = kit::make_pipe();
        auto s = start_program({kit::test::program_path("msg_sender"), kf.path.name(), "late"},
                               out.write.get());
        out.write.reset();
        ASSERT_TRUE(kit::wait_until_blocked(s.pid(), "msgsnd")) << strsignal(sig);
        ASSERT_EQ(::kill(s.pid(), sig), 0);
        const auto st = s.wait();
        EXPECT_TRUE(st.exited_with(128 + sig)) << strsignal(sig) << ": " << st.describe();
        EXPECT_EQ(read_all(out.read.get()), "stopped by signal " + std::to_string(sig) +
                                                ", removed queue " + std::to_string(id) + "\n");
        EXPECT_EQ(listed_qnum(id), std::nullopt) << strsignal(sig);
        EXPECT_EQ(::msgget(kf.key, 0), -1);
    }
}

// ======================= POSIX: killed users =======================

TEST(MqCrash, NameOutlivesAKilledCreatorAndStillOpens) {
    const auto name = kit::unique_posix_name("mq-crash");
    auto guard = kit::mq_unlink_guard(name);
    auto steps = kit::make_pipe();
    auto never = kit::make_pipe();
    auto creator = kit::spawn([&] {
        mq_attr attr{};
        attr.mq_maxmsg = 4;
        attr.mq_msgsize = 64;
        mqd_t q = kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600, &attr),
                             "mq_open");
        kit::check(::mq_send(q, "before the crash", 16, 0), "mq_send");
        tell(steps.write.get());
        hold(never.read.get());
    });
    ASSERT_TRUE(heard(steps.read.get()));
    ASSERT_EQ(::kill(creator.pid(), SIGKILL), 0);
    EXPECT_TRUE(creator.wait().killed_by(SIGKILL));

    kit::Fd q(static_cast<int>(::mq_open(name.c_str(), O_RDONLY | O_NONBLOCK)));
    ASSERT_TRUE(q) << "the name must still open: " << std::strerror(errno);
    char buf[64];
    ssize_t n = ::mq_receive(q.get(), buf, sizeof buf, nullptr);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0))),
              "before the crash");
    kit::check(::mq_unlink(name.c_str()), "mq_unlink");
    EXPECT_EQ(::mq_open(name.c_str(), O_RDONLY), mqd_t(-1));
    EXPECT_EQ(errno, ENOENT);
}

TEST(MqCrash, ReceiverKilledInMqReceiveLeavesTheMessageForTheNextReceiver) {
    const auto name = kit::unique_posix_name("mq-crash");
    auto guard = kit::mq_unlink_guard(name);
    mq_attr attr{};
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = 64;
    kit::Fd q(kit::check(
        static_cast<int>(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr)),
        "mq_open"));
    auto receiver = kit::spawn([&] {
        char buf[64];
        alarm(5);
        return ::mq_receive(q.get(), buf, sizeof buf, nullptr) == -1 ? 3 : 4;
    });
    ASSERT_TRUE(kit::wait_until_blocked(receiver.pid(), "wq_sleep"));  // inside mq_receive
    ASSERT_EQ(::kill(receiver.pid(), SIGKILL), 0);
    EXPECT_TRUE(receiver.wait().killed_by(SIGKILL));

    kit::check(::mq_send(q.get(), "for the next one", 16, 0), "mq_send");
    mq_attr now{};
    kit::check(::mq_getattr(q.get(), &now), "mq_getattr");
    EXPECT_EQ(now.mq_curmsgs, 1);
    auto next = kit::spawn([&] {
        kit::Fd mine(kit::check(static_cast<int>(::mq_open(name.c_str(), O_RDONLY)), "mq_open"));
        char buf[64];
        ssize_t n = kit::check(::mq_receive(mine.get(), buf, sizeof buf, nullptr), "mq_receive");
        return std::string(buf, static_cast<std::size_t>(n)) == "for the next one" ? 0 : 3;
    });
    EXPECT_TRUE(next.wait().ok());
}

TEST(MqCrash, UnlinkRightAfterBothSidesOpenedLeavesNothingWhenBothAreKilled) {
    const auto name = kit::unique_posix_name("mq-crash");
    auto guard = kit::mq_unlink_guard(name);  // only for a failing test
    auto steps = kit::make_pipe();
    auto go = kit::make_pipe();
    auto never = kit::make_pipe();
    auto a = kit::spawn([&] {
        mq_attr attr{};
        attr.mq_maxmsg = 4;
        attr.mq_msgsize = 64;
        mqd_t q =
            kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr), "mq_open");
        tell(steps.write.get());  // created and open
        if (!heard(go.read.get())) return 3;
        kit::check(::mq_unlink(name.c_str()), "mq_unlink");  // both sides have it: drop the name
        kit::check(::mq_send(q, "after unlink", 12, 0), "mq_send");
        tell(steps.write.get());
        hold(never.read.get());
        return 0;
    });
    ASSERT_TRUE(heard(steps.read.get()));
    auto b = kit::spawn([&] {
        mqd_t q = kit::check(::mq_open(name.c_str(), O_RDONLY), "mq_open");
        tell(go.write.get());  // opened: a may unlink
        char buf[64];
        ssize_t n = kit::check(::mq_receive(q, buf, sizeof buf, nullptr), "mq_receive");
        if (std::string(buf, static_cast<std::size_t>(n)) != "after unlink") return 3;
        tell(steps.write.get());
        hold(never.read.get());
        return 0;
    });
    ASSERT_TRUE(heard(steps.read.get()));  // a: unlinked and sent
    ASSERT_TRUE(heard(steps.read.get()));  // b: received through its descriptor
    ASSERT_EQ(::kill(a.pid(), SIGKILL), 0);
    ASSERT_EQ(::kill(b.pid(), SIGKILL), 0);
    EXPECT_TRUE(a.wait().killed_by(SIGKILL));
    EXPECT_TRUE(b.wait().killed_by(SIGKILL));
    EXPECT_EQ(::mq_open(name.c_str(), O_RDONLY), mqd_t(-1));  // nothing left to leak
    EXPECT_EQ(errno, ENOENT);
}

TEST(MqCrash, TimedReceiveBoundsTheWaitForASenderThatDied) {
    const auto name = kit::unique_posix_name("mq-crash");
    auto guard = kit::mq_unlink_guard(name);
    mq_attr attr{};
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = 64;
    kit::Fd q(kit::check(
        static_cast<int>(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr)),
        "mq_open"));
    auto steps = kit::make_pipe();
    auto never = kit::make_pipe();
    auto sender = kit::spawn([&] {
        tell(steps.write.get());  // has the queue, about to send
        hold(never.read.get());
    });
    ASSERT_TRUE(heard(steps.read.get()));
    ASSERT_EQ(::kill(sender.pid(), SIGKILL), 0);
    EXPECT_TRUE(sender.wait().killed_by(SIGKILL));
    // Nothing tells a receiver that its senders are gone (no EOF as on a pipe):
    // a plain mq_receive would wait forever. A deadline ends the wait.
    timespec deadline{};
    kit::check(::clock_gettime(CLOCK_REALTIME, &deadline), "clock_gettime");
    deadline.tv_nsec += 100'000'000;
    if (deadline.tv_nsec >= 1'000'000'000) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1'000'000'000;
    }
    char buf[64];
    EXPECT_EQ(::mq_timedreceive(q.get(), buf, sizeof buf, nullptr, &deadline), -1);
    EXPECT_EQ(errno, ETIMEDOUT);
}

// ======================= POSIX: the lesson programs stopped =======================

// Each program that creates a named queue drops the name right after
// mq_open. Shown by stopping each one at its first write to stdout (a full
// pipe blocks it there, a queue descriptor open): the descriptor's
// /proc/<pid>/fd link already says "(deleted)"; after SIGINT or SIGKILL
// the name does not open.
TEST(MqCrash, LessonProgramsHaveDroppedTheNameBeforeAnySignalCanStopThem) {
    for (const char* prog : {"mq_priority", "mq_timed_receive", "mq_notify_signal", "mq_poll"}) {
        for (int sig : {SIGINT, SIGKILL}) {
            auto out = kit::make_pipe();
            kit::check(::fcntl(out.write.get(), F_SETFL, O_NONBLOCK), "fcntl");
            const std::array<char, 4096> fill{};
            while (::write(out.write.get(), fill.data(), fill.size()) > 0) {
            }
            ASSERT_EQ(errno, EAGAIN);
            kit::check(::fcntl(out.write.get(), F_SETFL, 0), "fcntl");  // the program blocks
            auto p = start_program({kit::test::program_path(prog)}, out.write.get());
            ASSERT_TRUE(kit::wait_until_blocked(p.pid(), "pipe_write")) << prog;
            std::string queue_link;
            const std::string fd_dir = "/proc/" + std::to_string(p.pid()) + "/fd";
            for (const auto& e : std::filesystem::directory_iterator(fd_dir)) {
                std::error_code ec;
                auto target = std::filesystem::read_symlink(e.path(), ec).string();
                if (target.find("/ipckit-") == 0) queue_link = target;
            }
            EXPECT_NE(queue_link.find(" (deleted)"), std::string::npos)
                << prog << ": its queue descriptor is " << queue_link;
            ASSERT_EQ(::kill(p.pid(), sig), 0);
            EXPECT_TRUE(p.wait().killed_by(sig)) << prog;
            const std::string name = queue_link.substr(0, queue_link.find(' '));
            EXPECT_EQ(::mq_open(name.c_str(), O_RDONLY), mqd_t(-1)) << prog << " " << name;
            EXPECT_EQ(errno, ENOENT) << prog;
        }
    }
}
