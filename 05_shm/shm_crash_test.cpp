// Chapter 05 · Shared memory when a process dies (进程崩溃): what SIGKILL at
// the step that matters leaves in the system, and what the survivor sees.
// Each victim tells the parent "I am at step X" over a pipe, then blocks
// reading another pipe until it is killed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "shm_test_util.hpp"
#include "spsc_ring.hpp"

using namespace ch05::test;

namespace {

// The shm_nattch that /proc/sysvipc/shm lists for segment `id`, or nothing
// when the segment does not exist.
std::optional<long> nattch_in_proc(int id) {
    std::ifstream in("/proc/sysvipc/shm");
    std::string line;
    std::getline(in, line);  // header: key shmid perms size cpid lpid nattch ...
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        long key = 0, shmid = 0, perms = 0, size = 0, cpid = 0, lpid = 0, nattch = 0;
        if (ss >> key >> shmid >> perms >> size >> cpid >> lpid >> nattch && shmid == id)
            return nattch;
    }
    return std::nullopt;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// A victim: runs `setup` in a child, which then reports "at the step" and
// blocks on a pipe until the test kills it with SIGKILL. Returns the reaped
// child's status; ASSERTs that it got to the step and died of SIGKILL.
struct Victim {
    kit::Pipe at_step = kit::make_pipe();
    kit::Pipe hold = kit::make_pipe();
    template <class Setup>
    kit::Child start(Setup setup) {
        return kit::spawn([this, setup] {
            if (int rc = setup(); rc != 0) return rc;
            go(at_step.write);
            std::array<std::byte, 1> b{};
            (void)kit::read_full(hold.read.get(), b);  // never written: blocks until killed
            return 0;
        });
    }
};

// Sends `sig` once the victim is at its step, and reaps it.
void kill_at_step(Victim& v, kit::Child& child, int sig) {
    ASSERT_TRUE(await(v.at_step.read)) << "the victim never reached its step";
    ASSERT_EQ(::kill(child.pid(), sig), 0);
    auto status = child.wait();
    EXPECT_TRUE(status.killed_by(sig)) << status.describe();
}

}  // namespace

// ------------------------------------------------------------- System V

TEST(ShmCrash, SysvSegmentOutlivesItsKilledCreator) {
    if (kit::read_long_file("/proc/sys/kernel/shm_rmid_forced").value_or(0) != 0)
        GTEST_SKIP() << "kernel.shm_rmid_forced is set: a segment dies with its last user here";
    auto ids = kit::make_pipe();
    Victim v;
    auto creator = v.start([&] {
        int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
        kit::write_all(ids.write.get(), std::as_bytes(std::span(&id, 1)));
        void* p = kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat");
        std::strcpy(static_cast<char*>(p), "written before the kill");
        return 0;
    });
    int id = -1;
    ASSERT_TRUE(kit::wait_readable(ids.read.get()));
    ASSERT_EQ(kit::read_full(ids.read.get(), std::as_writable_bytes(std::span(&id, 1))), sizeof id);
    auto guard = kit::shm_guard(id);  // the test removes what the kill leaves
    ASSERT_NO_FATAL_FAILURE(kill_at_step(v, creator, SIGKILL));
    EXPECT_EQ(nattch_in_proc(id), std::optional<long>(0)) << "left in /proc/sysvipc/shm, detached";
    Attachment a(id);
    EXPECT_STREQ(a.chars(), "written before the kill");
    a.detach();
    ASSERT_EQ(::shmctl(id, IPC_RMID, nullptr), 0);  // the recovery: ipcrm -m <id>
    EXPECT_EQ(nattch_in_proc(id), std::nullopt);
}

// The idiom against that leak: attach, then IPC_RMID at once. The segment
// lives while attached and goes with its last user, however that user ends.
TEST(ShmCrash, RmidRightAfterAttachLeavesNothingWhenTheCreatorIsKilled) {
    auto ids = kit::make_pipe();
    Victim v;
    auto creator = v.start([&] {
        int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
        kit::write_all(ids.write.get(), std::as_bytes(std::span(&id, 1)));
        (void)kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat");
        kit::check(::shmctl(id, IPC_RMID, nullptr), "shmctl");
        return 0;
    });
    int id = -1;
    ASSERT_TRUE(kit::wait_readable(ids.read.get()));
    ASSERT_EQ(kit::read_full(ids.read.get(), std::as_writable_bytes(std::span(&id, 1))), sizeof id);
    auto guard = kit::shm_guard(id);
    ASSERT_TRUE(await(v.at_step.read));
    EXPECT_EQ(nattch_in_proc(id), std::optional<long>(1)) << "alive while its creator is attached";
    ASSERT_EQ(::kill(creator.pid(), SIGKILL), 0);
    EXPECT_TRUE(creator.wait().killed_by(SIGKILL));
    EXPECT_EQ(nattch_in_proc(id), std::nullopt) << "the kill left a segment behind";
}

// ------------------------------------------------------------------ POSIX

TEST(ShmCrash, PosixNameInDevShmSurvivesSigkill) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("crash"));
    const std::string file = "/dev/shm" + name.name();
    Victim v;
    auto creator = v.start([&] {
        kit::Fd fd = create_posix(name, kPage);
        Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
        std::strcpy(m.chars(), "written before the kill");
        return 0;
    });
    ASSERT_NO_FATAL_FAILURE(kill_at_step(v, creator, SIGKILL));
    ASSERT_TRUE(exists(file)) << file << " should outlive its killed creator";
    kit::Fd fd(kit::check(::shm_open(name.c_str(), O_RDONLY, 0), "shm_open"));
    Mapping m(kPage, PROT_READ, MAP_SHARED, fd.get());
    EXPECT_STREQ(m.chars(), "written before the kill");
    ASSERT_EQ(::shm_unlink(name.c_str()), 0);  // the recovery: rm /dev/shm/<name>
    EXPECT_FALSE(exists(file));
}

// shm_unlink right after shm_open + mmap: the memory lives in the mapping
// only, so a kill leaves no name (the POSIX twin of IPC_RMID after attach).
TEST(ShmCrash, UnlinkRightAfterOpenLeavesNothing) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("crash"));
    const std::string file = "/dev/shm" + name.name();
    Victim v;
    auto creator = v.start([&] {
        kit::Fd fd = create_posix(name, kPage);
        void* p =
            kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0),
                       MAP_FAILED, "mmap");
        kit::check(::shm_unlink(name.c_str()), "shm_unlink");
        std::strcpy(static_cast<char*>(p), "still mapped");
        return 0;
    });
    ASSERT_TRUE(await(v.at_step.read));
    EXPECT_FALSE(exists(file)) << "unlinked while the creator still maps it";
    ASSERT_EQ(::kill(creator.pid(), SIGKILL), 0);
    EXPECT_TRUE(creator.wait().killed_by(SIGKILL));
    EXPECT_FALSE(exists(file));
    EXPECT_EQ(::shm_open(name.c_str(), O_RDONLY, 0), -1);
    EXPECT_EQ(errno, ENOENT);
}

// A MAP_SHARED store is a store into the file's page cache: the file has it
// the moment it is made, so a kill after it loses nothing (no msync needed;
// msync matters only for a crash of the whole machine).
TEST(ShmCrash, FileMappingKeepsWhatWasStoredBeforeTheKill) {
    auto path = kit::unlink_guard(kit::unique_temp_path("crash"));
    Victim v;
    auto writer = v.start([&] {
        kit::Fd fd(kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "open"));
        kit::check(::ftruncate(fd.get(), kPage), "ftruncate");
        void* p =
            kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0),
                       MAP_FAILED, "mmap");
        std::strcpy(static_cast<char*>(p), "stored, then killed");
        return 0;
    });
    ASSERT_NO_FATAL_FAILURE(kill_at_step(v, writer, SIGKILL));
    kit::Fd fd(kit::check(::open(path.c_str(), O_RDONLY), "open"));
    std::array<char, 32> buf{};
    ASSERT_GT(::pread(fd.get(), buf.data(), buf.size() - 1, 0), 0);
    EXPECT_STREQ(buf.data(), "stored, then killed");
    EXPECT_TRUE(exists(path.name()));  // the file is left; the guard removes it
}

// --------------------------------------------------------------- the rings

// The SPSC ring's tail is its sequence number: a slot counts only once tail
// has been stored past it (release). A producer killed between filling a slot
// and publishing it leaves a slot the consumer never sees.
TEST(ShmCrash, ProducerKilledBeforePublishingLeavesNoHalfWrittenSlot) {
    auto mem = shared_anon(sizeof(ch05::SpscRing));
    auto& r = mem.as<ch05::SpscRing>();
    Victim v;
    auto producer = v.start([&] {
        for (std::uint64_t value = 1; value <= 3; ++value)
            if (!ch05::try_push(r, value)) return 2;
        r.slots[3] = 0xDEAD;  // step 1 of a push: the slot is written...
        return 0;             // ...step 2, tail.store(4, release), never happens
    });
    ASSERT_NO_FATAL_FAILURE(kill_at_step(v, producer, SIGKILL));
    EXPECT_EQ(r.slots[3], 0xDEADu) << "the bytes are in shared memory";
    std::uint64_t value = 0;
    for (std::uint64_t want = 1; want <= 3; ++want) {
        ASSERT_TRUE(ch05::try_pop(r, value));
        EXPECT_EQ(value, want);
    }
    EXPECT_FALSE(ch05::try_pop(r, value)) << "the unpublished slot was handed out: " << value;
}

// A lock-free ring gives the consumer nothing to sleep on, and a dead
// producer looks like a slow one. A pidfd tells them apart: it becomes
// readable when the process ends, so the consumer polls it instead of
// guessing with a timeout.
TEST(ShmCrash, ConsumerDetectsADeadProducerByItsPidfd) {
    auto mem = shared_anon(sizeof(ch05::SpscRing));
    auto& r = mem.as<ch05::SpscRing>();
    Victim v;
    auto producer = v.start([&] { return ch05::try_push(r, 7) && ch05::try_push(r, 8) ? 0 : 2; });
    ASSERT_TRUE(await(v.at_step.read));
    kit::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, producer.pid(), 0)));
    if (!pidfd) GTEST_SKIP() << "pidfd_open: " << std::strerror(errno);
    std::uint64_t value = 0;
    EXPECT_TRUE(ch05::try_pop(r, value) && value == 7);
    EXPECT_TRUE(ch05::try_pop(r, value) && value == 8);
    EXPECT_FALSE(ch05::try_pop(r, value));  // empty: slow or dead?
    EXPECT_EQ(kit::wait_for_events(pidfd.get(), POLLIN, std::chrono::milliseconds(0)), 0)
        << "alive: its pidfd is not readable";
    ASSERT_EQ(::kill(producer.pid(), SIGKILL), 0);
    EXPECT_NE(kit::wait_for_events(pidfd.get(), POLLIN) & POLLIN, 0) << "dead: readable";
    EXPECT_FALSE(ch05::try_pop(r, value)) << "and it left nothing half-published";
    EXPECT_TRUE(producer.wait().killed_by(SIGKILL));
}

// ------------------------------------------ SIGINT / SIGTERM while holding a name

namespace {

// Runs a chapter program with `sig` already pending when it starts (blocked
// and raised before execve, which keeps both): for that signal the whole run
// is "mid-run". Returns what it printed (stdout and stderr) and how it ended.
kit::test::Captured run_with_stop_pending(const std::string& program, int sig) {
    auto out = kit::make_pipe();
    auto child = kit::spawn([&] {
        sigset_t set;
        ::sigemptyset(&set);
        ::sigaddset(&set, sig);
        kit::check(::sigprocmask(SIG_BLOCK, &set, nullptr), "sigprocmask");
        kit::check(::raise(sig), "raise");  // pending: it cannot be delivered yet
        kit::check(::dup2(out.write.get(), STDOUT_FILENO), "dup2");
        kit::check(::dup2(out.write.get(), STDERR_FILENO), "dup2");
        const std::string path = kit::test::program_path(program);
        ::execl(path.c_str(), program.c_str(), static_cast<char*>(nullptr));
        return 127;
    });
    out.write.reset();
    kit::test::Captured r;
    std::array<char, 4096> buf{};
    while (kit::wait_readable(out.read.get())) {
        ssize_t n = ::read(out.read.get(), buf.data(), buf.size());
        if (n <= 0) break;
        r.out.append(buf.data(), std::size_t(n));
    }
    r.status = child.wait();
    return r;
}

// The first match of `pattern`'s group 1 in `text`, or "".
std::string find(const std::string& text, const std::string& pattern) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(pattern)) ? m[1].str() : std::string();
}

}  // namespace

TEST(ShmStop, PosixShmTwoRolesRemovesItsNameWhenStoppedBySigint) {
    auto r = run_with_stop_pending("posix_shm_two_roles", SIGINT);
    const std::string name = find(r.out, "shm_open (/ipckit-[0-9]+-[0-9]+-greeting)");
    ASSERT_FALSE(name.empty()) << r.out;
    auto guard = kit::shm_unlink_guard(name);  // should the program fail to
    EXPECT_TRUE(r.status.killed_by(SIGINT)) << r.status.describe() << "\n" << r.out;
    EXPECT_NE(r.out.find("writer: shm_unlink"), std::string::npos) << r.out;
    EXPECT_FALSE(exists("/dev/shm" + name));
}

TEST(ShmStop, MapPrivateCowRemovesItsNameWhenStoppedBySigterm) {
    auto r = run_with_stop_pending("map_private_cow", SIGTERM);
    const std::string name = find(r.out, "shm_open (/ipckit-[0-9]+-[0-9]+-cow)");
    ASSERT_FALSE(name.empty()) << r.out;
    auto guard = kit::shm_unlink_guard(name);
    EXPECT_TRUE(r.status.killed_by(SIGTERM)) << r.status.describe() << "\n" << r.out;
    EXPECT_NE(r.out.find("MAP_SHARED (the object):     \"child v2\""), std::string::npos) << r.out;
    EXPECT_FALSE(exists("/dev/shm" + name));
}

TEST(ShmStop, PosixShmUnlinkRemovesItsNameWhenStoppedBySigint) {
    auto r = run_with_stop_pending("posix_shm_unlink", SIGINT);
    const std::string name = find(r.out, "mapped (/ipckit-[0-9]+-[0-9]+-unlinked);");
    ASSERT_FALSE(name.empty()) << r.out;
    auto guard = kit::shm_unlink_guard(name);
    EXPECT_TRUE(r.status.killed_by(SIGINT)) << r.status.describe() << "\n" << r.out;
    EXPECT_NE(r.out.find("again: a new object of 0 bytes"), std::string::npos) << r.out;
    EXPECT_FALSE(exists("/dev/shm" + name));
}

TEST(ShmStop, MmapFileRemovesItsFileWhenStoppedBySigint) {
    auto r = run_with_stop_pending("mmap_file", SIGINT);
    const std::string path = find(r.out, "file (/[^ ]*ipckit-[0-9]+-[0-9]+-mapped):");
    ASSERT_FALSE(path.empty()) << r.out;
    auto guard = kit::unlink_guard(path);
    EXPECT_TRUE(r.status.killed_by(SIGINT)) << r.status.describe() << "\n" << r.out;
    EXPECT_NE(r.out.find("msync(MS_SYNC)"), std::string::npos) << r.out;
    EXPECT_FALSE(exists(path));
}

TEST(ShmStop, SysvShmParentChildRemovesItsSegmentWhenStoppedBySigterm) {
    auto r = run_with_stop_pending("sysv_shm_parent_child", SIGTERM);
    const std::string id = find(r.out, "shmget: segment ([0-9]+),");
    ASSERT_FALSE(id.empty()) << r.out;
    auto guard = kit::shm_guard(std::stoi(id));
    EXPECT_TRUE(r.status.killed_by(SIGTERM)) << r.status.describe() << "\n" << r.out;
    EXPECT_EQ(nattch_in_proc(std::stoi(id)), std::nullopt) << "segment " << id << " is left";
}

TEST(ShmStop, SysvShmLifecycleRemovesItsSegmentWhenStoppedBySigint) {
    auto r = run_with_stop_pending("sysv_shm_lifecycle", SIGINT);
    const std::string id = find(r.out, "finds segment ([0-9]+):");
    ASSERT_FALSE(id.empty()) << r.out;
    auto guard = kit::shm_guard(std::stoi(id));
    EXPECT_TRUE(r.status.killed_by(SIGINT)) << r.status.describe() << "\n" << r.out;
    EXPECT_EQ(nattch_in_proc(std::stoi(id)), std::nullopt) << "segment " << id << " is left";
}
