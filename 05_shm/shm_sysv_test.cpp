// Chapter 05 · Shared memory: System V segments (shmget/shmat/shmdt/shmctl)
// and their life cycle.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "shm_test_util.hpp"

using namespace shmtest;

// ---------------------------------------------------------------- System V

TEST(SysvShm, ChildWritesParentReadsThroughOneSegment) {
    int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
    auto guard = kit::shm_guard(id);
    auto child = kit::spawn([id] {
        Attachment a(id);
        std::strcpy(a.chars(), "written by the child");
        return 0;
    });
    ASSERT_TRUE(child.wait().ok());
    Attachment mine(id, SHM_RDONLY);
    EXPECT_STREQ(mine.chars(), "written by the child");
}

TEST(SysvShm, TwoAttachmentsAtDifferentAddressesSeeTheSameBytes) {
    int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
    auto guard = kit::shm_guard(id);
    Attachment first(id), second(id);
    ASSERT_NE(first.chars(), second.chars());  // a pointer into the segment means nothing elsewhere
    std::strcpy(first.chars(), "same page");
    EXPECT_STREQ(second.chars(), "same page");
    EXPECT_EQ(stat_segment(id).shm_nattch, 2u);
}

TEST(SysvShm, WritingAReadOnlyAttachmentIsSigsegv) {
    int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
    auto guard = kit::shm_guard(id);
    auto child = kit::spawn([id] {
        default_action(SIGSEGV);
        Attachment a(id, SHM_RDONLY);
        *static_cast<volatile char*>(a.chars()) = 'x';
        return 0;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.killed_by(SIGSEGV)) << st.describe();
}

TEST(SysvShm, ExistingKeyWithALargerSizeIsEinval) {
    key_t key = 0;
    int id = create_with_fresh_key(key);
    auto guard = kit::shm_guard(id);
    EXPECT_EQ(::shmget(key, kPage, 0), id);
    EXPECT_EQ(::shmget(key, 2 * kPage, 0), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(::shmget(key, kPage, IPC_CREAT | IPC_EXCL | 0600), -1);
    EXPECT_EQ(errno, EEXIST);
}

TEST(SysvLifecycle, SegmentOutlivesItsCreator) {
    // kernel.shm_rmid_forced=1 makes exit destroy unattached segments the process created.
    if (kit::read_long_file("/proc/sys/kernel/shm_rmid_forced").value_or(0) != 0)
        GTEST_SKIP() << "kernel.shm_rmid_forced is set: segments die with their creator here";
    auto ids = kit::make_pipe();
    auto creator = kit::spawn([&] {
        int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
        kit::write_all(ids.write.get(),
                       std::as_bytes(std::span(&id, 1)));  // first: the parent removes it
        void* p = kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat");
        std::strcpy(static_cast<char*>(p), "left by the creator");
        return 0;  // exits attached, without IPC_RMID
    });
    ids.write.reset();  // a creator that dies before sending the id gives EOF
    int id = -1;
    ASSERT_TRUE(kit::wait_readable(ids.read.get()));
    ASSERT_EQ(kit::read_full(ids.read.get(), std::as_writable_bytes(std::span(&id, 1))), sizeof id);
    auto guard = kit::shm_guard(id);  // before anything can fail: the segment must not leak
    ASSERT_TRUE(creator.wait().ok());
    EXPECT_EQ(stat_segment(id).shm_nattch, 0u);  // exit detached it
    Attachment a(id);
    EXPECT_STREQ(a.chars(), "left by the creator");
}

TEST(SysvLifecycle, ExitDetachesWithoutShmdt) {
    int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
    auto guard = kit::shm_guard(id);
    auto child = kit::spawn([id] {
        (void)kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat");
        return 0;
    });
    const pid_t pid = child.pid();
    ASSERT_TRUE(child.wait().ok());
    auto ds = stat_segment(id);
    EXPECT_EQ(ds.shm_nattch, 0u);
    EXPECT_EQ(ds.shm_lpid, pid);  // the last shmat/shmdt was the child's (its exit)
}

// exec replaces the address space, and the attachment goes with it: the
// process is alive (blocked in cat's read) but attached to nothing.
TEST(SysvLifecycle, ExecDetachesWithoutShmdt) {
    int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
    auto guard = kit::shm_guard(id);
    auto input = kit::make_pipe();
    auto child = kit::spawn([&] {
        (void)kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat");
        kit::check(::dup2(input.read.get(), STDIN_FILENO), "dup2");
        ::execl("/bin/cat", "cat", static_cast<char*>(nullptr));
        return 127;
    });
    ASSERT_TRUE(kit::wait_in_syscall(child.pid(), SYS_read)) << "cat never blocked in read()";
    auto ds = stat_segment(id);
    EXPECT_EQ(ds.shm_lpid, child.pid());  // the child did attach...
    EXPECT_EQ(ds.shm_nattch, 0u);         // ...and exec detached it
    input.write.reset();                  // EOF: cat exits
    auto status = child.wait();
    EXPECT_TRUE(status.ok()) << status.describe();
}

TEST(SysvLifecycle, RmidDestroysOnlyWhenTheLastProcessDetaches) {
    int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
    auto guard = kit::shm_guard(id);
    Attachment mine(id);
    auto turn = kit::make_pipe(), done = kit::make_pipe();
    auto child = kit::spawn([&] {  // inherits the attachment
        if (!await(turn.read)) return 2;
        std::strcpy(mine.chars(), "after IPC_RMID");
        go(done.write);
        if (!await(turn.read)) return 3;  // stays attached until told
        return 0;
    });
    EXPECT_EQ(stat_segment(id).shm_nattch, 2u);  // fork counts as an attach
    ASSERT_EQ(::shmctl(id, IPC_RMID, nullptr), 0);
    auto ds = stat_segment(id);  // still there: only marked
    EXPECT_EQ(ds.shm_nattch, 2u);
    EXPECT_TRUE(ds.shm_perm.mode & SHM_DEST);
    go(turn.write);
    ASSERT_TRUE(await(done.read));
    EXPECT_STREQ(mine.chars(), "after IPC_RMID");  // both still share it
    mine.detach();
    EXPECT_EQ(stat_segment(id).shm_nattch, 1u);
    go(turn.write);
    ASSERT_TRUE(child.wait().ok());
    shmid_ds gone{};
    EXPECT_EQ(::shmctl(id, IPC_STAT, &gone), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(SysvLifecycle, RmidMakesTheKeyPrivateSoTheKeyFindsNothing) {
    key_t key = 0;
    int id = create_with_fresh_key(key);
    auto guard = kit::shm_guard(id);
    Attachment mine(id);
    ASSERT_EQ(::shmctl(id, IPC_RMID, nullptr), 0);
    EXPECT_EQ(stat_segment(id).shm_perm.__key, IPC_PRIVATE);
    EXPECT_EQ(::shmget(key, 0, 0), -1);
    EXPECT_EQ(errno, ENOENT);
    int fresh = kit::check(::shmget(key, kPage, IPC_CREAT | IPC_EXCL | 0600), "shmget");
    auto fresh_guard = kit::shm_guard(fresh);
    EXPECT_NE(fresh, id);  // the key now names a new, separate segment
}

TEST(SysvLifecycle, LinuxStillAttachesASegmentMarkedForRemoval) {
    int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
    auto guard = kit::shm_guard(id);
    Attachment first(id);
    ASSERT_EQ(::shmctl(id, IPC_RMID, nullptr), 0);
    Attachment second(id);  // non-portable: Linux allows it while nattch > 0
    std::strcpy(first.chars(), "x");
    EXPECT_STREQ(second.chars(), "x");
    EXPECT_EQ(stat_segment(id).shm_nattch, 2u);
}
