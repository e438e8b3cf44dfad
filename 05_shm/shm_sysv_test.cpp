// Chapter 05 · Shared memory: System V segments (shmget/shmat/shmdt/shmctl)
// and their life cycle.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
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

using namespace ch05::test;

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
    // kernel.shm_rmid_forced=1 destroys a segment when its attach count falls to 0.
    if (kit::read_long_file("/proc/sys/kernel/shm_rmid_forced").value_or(0) != 0)
        GTEST_SKIP() << "kernel.shm_rmid_forced is set: a segment dies with its last user here";
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

// --------------------------------------------------- kernel.shm_rmid_forced

// The sysctl that changes the life cycle above: readable by anyone, one per
// IPC namespace (man 5 proc, /proc/sys/kernel/shm_rmid_forced).
TEST(SysvLifecycle, ShmRmidForcedIsReadableAndZeroOrOne) {
    auto value = kit::read_long_file("/proc/sys/kernel/shm_rmid_forced");
    ASSERT_TRUE(value.has_value()) << "cannot read /proc/sys/kernel/shm_rmid_forced";
    EXPECT_TRUE(*value == 0 || *value == 1) << *value;
}

namespace {
// What a child saw in its own IPC namespace with shm_rmid_forced set to 1.
struct ForcedResults {
    int unshare_errno, write_errno;
    long initial;           // the value a new IPC namespace starts with
    int orphan_before_set;  // IPC_STAT errno of a segment left by an exited creator, at 0
    int orphan_at_set;      // ... of that one, after setting 1
    int mine_at_set;        // ... of one we made and never attached (its creator lives)
    int attached_at_set;    // ... of an attached one (0: still there)
    int after_shmdt;        // ... of that one after its only shmdt
    int never_attached;     // ... of one whose creator exited without attaching it
};

// Enters a new IPC namespace: unprivileged via a new user namespace, or
// directly where we hold CAP_SYS_ADMIN. 0 or the errno of the refusal.
int enter_new_ipc_namespace() {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWIPC) == 0) return 0;
    const int err = errno;
    return ::unshare(CLONE_NEWIPC) == 0 ? 0 : err;
}

int stat_errno(int id) {
    shmid_ds ds{};
    return ::shmctl(id, IPC_STAT, &ds) == 0 ? 0 : errno;
}
}  // namespace

// A process that makes a segment, sends its id and exits without attaching it.
int segment_of_an_exited_creator() {
    auto ids = kit::make_pipe();
    auto creator = kit::spawn([&] {
        int id = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
        kit::write_all(ids.write.get(), std::as_bytes(std::span(&id, 1)));
        return 0;
    });
    int id = -1;
    if (kit::read_full(ids.read.get(), std::as_writable_bytes(std::span(&id, 1))) != sizeof id)
        return -1;
    return creator.wait().ok() ? id : -1;
}

// With kernel.shm_rmid_forced=1 a segment no longer outlives its users: it is
// destroyed as soon as its attach count falls to 0, and a segment created but
// never attached dies with its creator. Setting it destroys at once the
// unattached segments whose creator has exited (the kernel spares those whose
// creator still runs). Shown in a private IPC namespace, where the setting
// (and every segment made) stays with the child.
TEST(SysvLifecycle, ShmRmidForcedDestroysASegmentWhenItsAttachCountFallsToZero) {
    auto mem = shared_anon(sizeof(ForcedResults));
    auto& r = mem.as<ForcedResults>();
    auto child = kit::spawn([&] {
        if ((r.unshare_errno = enter_new_ipc_namespace()) != 0) return 77;
        r.initial = kit::read_long_file("/proc/sys/kernel/shm_rmid_forced").value_or(-1);
        const int orphan = segment_of_an_exited_creator();
        if (orphan == -1) return 2;
        r.orphan_before_set = stat_errno(orphan);
        int mine = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
        int attached = kit::check(::shmget(IPC_PRIVATE, kPage, IPC_CREAT | 0600), "shmget");
        void* p = kit::check(::shmat(attached, nullptr, 0), kShmatFailed, "shmat");
        kit::Fd f(::open("/proc/sys/kernel/shm_rmid_forced", O_WRONLY | O_CLOEXEC));
        if (!f || ::write(f.get(), "1", 1) != 1) {
            r.write_errno = errno;
            return 78;
        }
        f.reset();
        r.orphan_at_set = stat_errno(orphan);
        r.mine_at_set = stat_errno(mine);
        r.attached_at_set = stat_errno(attached);
        kit::check(::shmdt(p), "shmdt");
        r.after_shmdt = stat_errno(attached);
        const int never = segment_of_an_exited_creator();  // now made with the setting on
        if (never == -1) return 3;
        r.never_attached = stat_errno(never);
        return 0;
    });
    auto status = child.wait();
    if (status.exited_with(77))
        GTEST_SKIP() << "no new IPC namespace here: unshare: " << std::strerror(r.unshare_errno);
    if (status.exited_with(78))
        GTEST_SKIP() << "shm_rmid_forced not writable in a new IPC namespace: "
                     << std::strerror(r.write_errno);
    ASSERT_TRUE(status.ok()) << status.describe();
    EXPECT_EQ(r.initial, 0) << "a new IPC namespace starts with the default";
    EXPECT_EQ(r.orphan_before_set, 0) << "at 0, a segment outlives its creator";
    EXPECT_EQ(r.orphan_at_set, EINVAL)
        << "setting 1 destroys an unattached segment of a dead creator";
    EXPECT_EQ(r.mine_at_set, 0) << "...but not one whose creator still runs";
    EXPECT_EQ(r.attached_at_set, 0) << "an attached segment stays while attached";
    EXPECT_EQ(r.after_shmdt, EINVAL) << "destroyed when its attach count fell to 0";
    EXPECT_EQ(r.never_attached, EINVAL) << "destroyed when its creator exited";
}
