// bench_crash_test.cpp — what a kill -9 of ipc_bench leaves behind (进程崩溃): nothing. Every named
// object is unlinked once both sides hold it (bench_test.cpp, Cleanup); the System V queues,
// which have no name and die at IPC_RMID, are removed by a remover process that outlives the run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kit/child.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

namespace {

struct Queue {
    int id;
    pid_t last_sender;
};

std::vector<Queue> sysv_queues() {
    std::vector<Queue> out;
    std::ifstream in("/proc/sysvipc/msg");
    std::string line;
    std::getline(in, line);  // key msqid perms cbytes qnum lspid lrpid ...
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        long key, perms, cbytes, qnum;
        Queue q{};
        if (ss >> key >> q.id >> perms >> cbytes >> qnum >> q.last_sender) out.push_back(q);
    }
    return out;
}

pid_t parent_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto close = stat.rfind(')');  // pid (comm) state ppid ...
    if (close == std::string::npos) return -1;
    std::istringstream ss(stat.substr(close + 1));
    char state;
    pid_t ppid = -1;
    ss >> state >> ppid;
    return ppid;
}

// The System V queues that a child of `bench` has sent to: the cell's two queues, in use.
std::vector<int> queues_in_use_by_children_of(pid_t bench) {
    std::vector<int> ids;
    for (const Queue& q : sysv_queues())
        if (q.last_sender > 0 && parent_of(q.last_sender) == bench) ids.push_back(q.id);
    return ids;
}

bool exists(int id) {
    for (const Queue& q : sysv_queues())
        if (q.id == id) return true;
    return false;
}

// Bounded, without sleeping: the remover acts as soon as the last holder of its pipe is gone.
template <class Pred>
bool wait_until(Pred done) {
    const auto end = std::chrono::steady_clock::now() + kit::kDeadline;
    while (std::chrono::steady_clock::now() < end) {
        if (done()) return true;
        ::sched_yield();
    }
    return done();
}

TEST(SysvQueueCrash, AKillNineDuringACellLeavesNoQueue) {
    kit::Child bench = kit::spawn([] {
        const char* argv[] = {KIT_BIN_DIR "/ipc_bench",
                              "--only",
                              "sysv-mq",
                              "--cpus",
                              "same",
                              "--reps",
                              "1",
                              "--budget-ms",
                              "10000",
                              nullptr};
        std::freopen("/dev/null", "w", stdout), std::freopen("/dev/null", "w", stderr);
        ::execv(argv[0], const_cast<char**>(argv));
        return 127;
    });
    // The step that matters: both queues made and carrying messages between the two children.
    std::vector<int> ids;
    ASSERT_TRUE(wait_until([&] {
        return (ids = queues_in_use_by_children_of(bench.pid())).size() == 2;
    })) << "the cell's two queues never showed up in /proc/sysvipc/msg";
    ASSERT_EQ(::kill(bench.pid(), SIGKILL), 0);
    const kit::ExitStatus st = bench.wait();
    EXPECT_TRUE(st.killed_by(SIGKILL)) << st.describe();  // no handler, no destructor ran
    const bool gone = wait_until([&] { return !exists(ids[0]) && !exists(ids[1]); });
    for (int id : ids)
        if (exists(id))
            ::msgctl(id, IPC_RMID, nullptr);  // keep the leak guard clean if the claim is false
    EXPECT_TRUE(gone) << "msqid " << ids[0] << " or " << ids[1]
                      << " outlived a kill -9 of ipc_bench";
}

// Why the queues are not simply removed once both children hold them, like every name is:
// IPC_RMID destroys a System V queue at once, under its users' feet.
TEST(SysvQueueCrash, IpcRmidDestroysAQueueAtOnceEvenWhileItIsInUse) {
    const int id = ::msgget(IPC_PRIVATE, 0600);
    ASSERT_NE(id, -1) << std::strerror(errno);
    kit::Child reader = kit::spawn([id] {
        struct {
            long type;
            char text[8];
        } m{};
        const ssize_t n = ::msgrcv(id, &m, sizeof m.text, 0, 0);
        return n == -1 && errno == EIDRM ? 0 : 1;  // the blocked receiver is told: EIDRM
    });
    const bool blocked = kit::wait_in_syscall(reader.pid(), SYS_msgrcv);
    ASSERT_EQ(::msgctl(id, IPC_RMID, nullptr), 0) << std::strerror(errno);
    EXPECT_TRUE(blocked) << "the reader never blocked in msgrcv";
    EXPECT_TRUE(reader.wait().exited_with(0))
        << "a receiver blocked in msgrcv did not fail with EIDRM";
    const long type = 1;
    errno = 0;
    EXPECT_EQ(::msgsnd(id, &type, 0, IPC_NOWAIT), -1);
    EXPECT_EQ(errno, EINVAL) << "after IPC_RMID the id is no longer valid for anyone";
}

}  // namespace
