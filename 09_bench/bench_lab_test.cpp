// bench_lab_test.cpp — the method lab's parts, as behaviour, never as speed: the three kernel
// wait modes deliver every message intact and in order, the spinning modes really make the
// descriptors nonblocking, and the open-loop sweep's roles deliver and count every message and
// measure each one from its due time.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "bench.hpp"
#include "harness.hpp"
#include "kit_test/program.hpp"

namespace bench {
namespace {

// Restores the default (block) however the test ends.
struct KernelWaitGuard {
    KernelWaitGuard(KernelWait how, int tries) { set_kernel_wait(how, tries); }
    ~KernelWaitGuard() { set_kernel_wait(KernelWait::block); }
};

Settings small() {
    Settings s;
    s.budget = std::chrono::milliseconds(5), s.warmup = std::chrono::milliseconds(1), s.reps = 1;
    return s;
}

// The open descriptors of this process.
std::set<int> open_fds() {
    std::set<int> fds;
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) throw kit::SysError(errno, "opendir /proc/self/fd");
    for (dirent* e; (e = ::readdir(d));)
        if (e->d_name[0] != '.') fds.insert(std::stoi(e->d_name));
    ::closedir(d);
    return fds;
}

TEST(KernelWait, EveryModeDeliversEveryMessageIntactAndInOrder) {
    const std::pair<KernelWait, const char*> modes[] = {
        {KernelWait::block, "block"},
        {KernelWait::spin, "spin"},
        {KernelWait::spin_then_block, "spin then block"}};
    for (const auto& [how, mode] : modes)
        for (const char* name : {"pipe", "unix-stream", "eventfd"})
            for (const Placement& where : standard_placements()) {
                // Spinning on one CPU waits for the scheduler's tick: a few round trips only.
                if (how == KernelWait::spin && where.name == "same") continue;
                KernelWaitGuard guard(how, 8);
                const Mechanism& m = *find_mechanism(name);
                // Ping-pong: every message stamped and compared byte for byte by its receiver.
                Measured r = run_cell(m, 100, where, Mode::pingpong, small());
                EXPECT_TRUE(r.ok()) << mode << " " << name << " " << where.name << ": " << r.error;
                EXPECT_GT(r.count, 0u) << mode << " " << name << " " << where.name;
                if (!m.streams) continue;
                // Stream: many messages in flight, a full pipe or socket buffer, short writes.
                Measured st = run_cell(m, 4096, where, Mode::stream, small());
                EXPECT_TRUE(st.ok())
                    << mode << " " << name << " " << where.name << ": " << st.error;
                EXPECT_GT(st.count, 0u) << mode << " " << name << " " << where.name;
            }
}

TEST(KernelWait, SpinModesMakeTheDescriptorsNonblockingAndAnEmptyReadFailsWithEAGAIN) {
    for (const char* name : {"pipe", "unix-stream", "eventfd"})
        for (const KernelWait how :
             {KernelWait::block, KernelWait::spin, KernelWait::spin_then_block}) {
            KernelWaitGuard guard(how, 8);
            const std::set<int> before = open_fds();
            auto link = find_mechanism(name)->make(100);
            link->share_one_process();
            const std::set<int> made = open_fds();
            auto ep = link->open(Role::a, ::getpid());
            // The endpoint's descriptors: those the link made that are still open (open() closes
            // none here, it keeps the other role's ends in one process).
            int nonblocking = 0, readable = 0;
            for (int fd : made) {
                if (before.count(fd)) continue;
                const int flags = ::fcntl(fd, F_GETFL);
                if (flags == -1 || !(flags & O_NONBLOCK)) continue;
                ++nonblocking;
                if ((flags & O_ACCMODE) == O_WRONLY) continue;
                struct stat st {};
                ASSERT_EQ(::fstat(fd, &st), 0);
                if (S_ISSOCK(st.st_mode)) {
                    int listening = 0;
                    socklen_t len = sizeof listening;
                    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
                        listening)
                        continue;
                }
                std::uint64_t word = 0;  // an eventfd reads 8 bytes or fails with EINVAL
                errno = 0;
                EXPECT_EQ(::read(fd, &word, sizeof word), -1) << name << ": fd " << fd;
                EXPECT_EQ(errno, EAGAIN) << name << ": " << std::strerror(errno);
                ++readable;
            }
            if (how == KernelWait::block) {
                EXPECT_EQ(nonblocking, 0) << name << ": block mode left a descriptor O_NONBLOCK";
            } else {
                EXPECT_GE(nonblocking, name == std::string("unix-stream") ? 1 : 2) << name;
                EXPECT_GE(readable, 1) << name << ": no receiving descriptor is O_NONBLOCK";
            }
        }
}

TEST(OpenLoop, EveryOfferedMessageArrivesInOrderAndIsCounted) {
    for (const char* name : {"pipe", "unix-stream", "shm-ring"})
        for (const Placement& where : standard_placements()) {
            Settings s = small();
            s.rate = 20'000;  // 100 messages in 5 ms
            s.sender_spins = where.name != "same";
            const Measured r = run_cell(*find_mechanism(name), 100, where, Mode::open_loop, s);
            ASSERT_TRUE(r.ok()) << name << " " << where.name << ": " << r.error;
            EXPECT_EQ(r.offered, 100u) << name << " " << where.name;
            EXPECT_EQ(r.count, r.offered) << name << " " << where.name;
            EXPECT_GE(r.p50_us, 0) << name;
            EXPECT_GE(r.p99_us, r.p50_us) << name;
            EXPECT_GT(r.rate.median, 0) << name;
        }
}

// A sender whose whole schedule lies 50 ms in the past: every message goes at least 45 ms after
// it was due, and since b measures from the due time stamped in it, every latency shows that.
// (Causality, not speed: a message cannot arrive before it was sent.)
TEST(OpenLoop, ALateSenderShowsItsDelayBecauseLatencyCountsFromTheDueTime) {
    Settings s = small();
    s.rate = 20'000;
    s.backdate = std::chrono::milliseconds(50);
    const Measured r =
        run_cell(*find_mechanism("pipe"), 100, standard_placements().back(), Mode::open_loop, s);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.count, r.offered);
    EXPECT_GE(r.p50_us, 45'000) << "the latency was taken from the send time, not the due time";
}

TEST(OpenLoop, LatencyIsTheReceiveTimeMinusTheDueTimeAndNeverNegative) {
    EXPECT_EQ(due_ns(1'000, 0, 1e3), 1'000);
    EXPECT_EQ(due_ns(1'000, 3, 1e3), 3'001'000);  // 1 kHz: one every millisecond
    EXPECT_EQ(due_ns(0, 5, 2e6), 2'500);          // 2 MHz: one every 500 ns
    EXPECT_EQ(one_way_ns(3'001'000, 3'001'000), 0u);
    EXPECT_EQ(one_way_ns(3'001'000, 3'050'000), 49'000u);
    // A message received before it was due means the sender did not wait: an error, not a 0.
    EXPECT_THROW((void)one_way_ns(3'001'000, 3'000'999), std::runtime_error);
}

TEST(BenchLab, TheQuickLabPrintsTheKernelWaitRowsAndTheOpenLoopSweepTable) {
    const auto r = kit::test::run_program(
        {kit::test::program_path("ipc_bench"), "--lab", "--quick"}, {}, std::chrono::seconds(25));
    ASSERT_TRUE(r.status.exited_with(0)) << r.status.describe() << r.out << r.err;
    EXPECT_NE(r.out.find("== Open-loop sweep: 100 B one-way messages offered at fixed rates"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("mechanism                  CPUs   offered/s  achieved/s    p50 us    "
                         "p99 us   a CPU us   b CPU us"),
              std::string::npos)
        << r.out;
    for (const char* row : {"pipe                       same        1000 ",
                            "Unix stream socket         same        1000 ",
                            "shm ring, spin then futex  same        1000 "})
        EXPECT_NE(r.out.find(row), std::string::npos) << row << " missing from:\n" << r.out;
    const bool two = r.out.find("cross-CPU rows are not measured") == std::string::npos;
    if (two) {
        for (const char* row : {"pipe                       spin on EAGAIN ",
                                "eventfd (8 B, wake-up)     100 tries, then poll ",
                                "Unix stream socket         cross       1000 "})
            EXPECT_NE(r.out.find(row), std::string::npos) << row << " missing from:\n" << r.out;
    }
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bench
