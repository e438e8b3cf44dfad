// Tests of chapter 04 (chapter04.*), file and record locks (文件锁): flock,
// fcntl record locks (F_SETLK/F_SETLKW/F_GETLK), open file description locks
// (F_OFD_SETLK) and lockf, between real processes; and what the kernel does
// with a dead holder's lock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/wait.hpp"
#include "semaphore_test_util.hpp"

using namespace ch04::test;

namespace {

// A file of 100 bytes at a unique path, removed on scope exit.
struct LockFile {
    kit::NameGuard path{kit::unique_temp_path("lock"), ::unlink};
    LockFile() {
        kit::Fd fd(kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "open"));
        kit::check(::ftruncate(fd.get(), 100), "ftruncate");
    }
    // A new open file description of the file.
    [[nodiscard]] kit::Fd open() const {
        return kit::Fd(kit::check(::open(path.c_str(), O_RDWR), "open"));
    }
};

// fcntl(fd, cmd) with a lock of `type` on [start, start+len): 0 or the errno.
int lock(int fd, int cmd, short type, off_t start = 0, off_t len = 0) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return ::fcntl(fd, cmd, &fl) == 0 ? 0 : errno;
}

// What F_GETLK says about a write lock on [start, start+len): the first
// conflicting lock (another process's), or l_type F_UNLCK.
struct flock probe(int fd, off_t start = 0, off_t len = 0) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    kit::check(::fcntl(fd, F_GETLK, &fl), "fcntl(F_GETLK)");
    return fl;
}

// In a child (a process other than the holder): F_GETLK's l_type for the
// whole file, as the exit status.
int type_seen_by_another_process(const LockFile& f) {
    auto c = kit::spawn([&] { return int(probe(f.open().get()).l_type); });
    const auto st = c.wait();
    return st.how == kit::ExitStatus::How::exited ? st.code : -1;
}

// 0 if a new open file description gets flock(LOCK_EX | LOCK_NB), else the errno.
int flock_free(const LockFile& f) {
    auto fd = f.open();
    return ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
}

}  // namespace

// ------------------------------------------------------- fcntl record locks

TEST(FileLock, PosixLockIsDroppedWhenTheProcessClosesAnyDescriptorOfTheFile) {
    LockFile f;
    auto fd1 = f.open(), fd2 = f.open();
    ASSERT_EQ(lock(fd1.get(), F_SETLK, F_WRLCK), 0);
    EXPECT_EQ(type_seen_by_another_process(f), F_WRLCK);
    fd2.reset();  // close() of a descriptor that never took the lock
    EXPECT_EQ(type_seen_by_another_process(f), F_UNLCK) << "the lock survived the close";
}

TEST(FileLock, OfdLockSurvivesClosingAnotherDescriptor) {
    LockFile f;
    auto fd1 = f.open(), fd2 = f.open();
    ASSERT_EQ(lock(fd1.get(), F_OFD_SETLK, F_WRLCK), 0);
    fd2.reset();
    EXPECT_EQ(type_seen_by_another_process(f), F_WRLCK) << "closing another fd dropped an OFD lock";
    auto c = kit::spawn([&] { return probe(f.open().get()).l_pid == -1 ? 0 : 1; });
    EXPECT_TRUE(c.wait().ok()) << "F_GETLK reports an OFD lock with l_pid -1";
    fd1.reset();  // the last descriptor of its open file description
    EXPECT_EQ(type_seen_by_another_process(f), F_UNLCK);
}

TEST(FileLock, OfdLocksConflictWithinOneProcessPosixLocksDoNot) {
    LockFile f;
    auto a = f.open(), b = f.open();
    ASSERT_EQ(lock(a.get(), F_OFD_SETLK, F_WRLCK, 0, 10), 0);
    EXPECT_EQ(lock(b.get(), F_OFD_SETLK, F_WRLCK, 0, 10), EAGAIN)
        << "two descriptions, one process";
    auto c = f.open(), d = f.open();
    ASSERT_EQ(lock(c.get(), F_SETLK, F_WRLCK, 50, 10), 0);
    EXPECT_EQ(lock(d.get(), F_SETLK, F_WRLCK, 50, 10), 0)
        << "a process never conflicts with itself";
}

TEST(FileLock, PosixLocksAreNotInheritedByAChild) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(lock(fd.get(), F_SETLK, F_WRLCK), 0);
    const pid_t parent = ::getpid();
    auto child = kit::spawn([&] {
        // The same descriptor, inherited; but the lock belongs to the parent.
        if (probe(fd.get()).l_pid != parent) return 1;
        return lock(fd.get(), F_SETLK, F_WRLCK) == EAGAIN ? 0 : 2;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(FileLock, ByteRangesLockIndependently) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(lock(fd.get(), F_SETLK, F_WRLCK, 0, 10), 0);  // bytes 0..9
    const pid_t parent = ::getpid();
    auto child = kit::spawn([&] {
        auto mine = f.open();
        if (lock(mine.get(), F_SETLK, F_WRLCK, 10, 10) != 0) return 1;      // 10..19: free
        if (lock(mine.get(), F_SETLK, F_WRLCK, 5, 10) != EAGAIN) return 2;  // 5..14 overlaps
        const struct flock who = probe(mine.get(), 5, 10);
        return who.l_pid == parent && who.l_start == 0 && who.l_len == 10 ? 0 : 3;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(FileLock, ReadLocksShareAWriteLockExcludes) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(lock(fd.get(), F_SETLK, F_RDLCK), 0);
    auto child = kit::spawn([&] {
        auto mine = f.open();
        if (lock(mine.get(), F_SETLK, F_RDLCK) != 0) return 1;
        return lock(mine.get(), F_SETLK, F_WRLCK) == EAGAIN ? 0 : 2;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(FileLock, DeadlockBetweenTwoProcessesFailsWithEdeadlk) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(lock(fd.get(), F_SETLK, F_WRLCK, 0, 1), 0);  // we hold byte 0
    auto ready = kit::make_pipe();
    auto other = kit::spawn([&] {
        auto mine = f.open();
        if (lock(mine.get(), F_SETLK, F_WRLCK, 1, 1) != 0) return 1;  // it holds byte 1
        say(ready.write);
        return lock(mine.get(), F_SETLKW, F_WRLCK, 0, 1);  // and sleeps waiting for byte 0
    });
    ASSERT_TRUE(heard(ready.read));
    ASSERT_TRUE(kit::wait_in_syscall(other.pid(), SYS_fcntl));
    // Waiting for byte 1 would close the cycle: the kernel refuses at once.
    EXPECT_EQ(lock(fd.get(), F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
    ASSERT_EQ(lock(fd.get(), F_SETLK, F_UNLCK, 0, 1), 0);
    auto st = other.wait();
    EXPECT_TRUE(st.ok()) << "the other process did not get byte 0: " << st.describe();
}

TEST(FileLock, LockfIsAnFcntlLockOnLinux) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(::lockf(fd.get(), F_TLOCK, 0), 0);  // from the offset (0) to the end
    const pid_t parent = ::getpid();
    auto child = kit::spawn([&] {
        auto mine = f.open();
        if (lock(mine.get(), F_SETLK, F_WRLCK) != EAGAIN) return 1;
        if (probe(mine.get()).l_pid != parent) return 2;
        return ::lockf(mine.get(), F_TEST, 0) == -1 && (errno == EACCES || errno == EAGAIN) ? 0 : 3;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

// ------------------------------------------------------------------ flock

TEST(FileLock, FlockFollowsTheOpenFileDescriptionAcrossForkAndDup) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(::flock(fd.get(), LOCK_EX | LOCK_NB), 0);
    EXPECT_EQ(flock_free(f), EWOULDBLOCK) << "another description, even in this process, waits";
    kit::Fd copy(::dup(fd.get()));
    fd.reset();
    EXPECT_EQ(flock_free(f), EWOULDBLOCK) << "the dup still holds the description";
    auto go = kit::make_pipe();
    auto child = kit::spawn([&] { return heard(go.read) ? 0 : 1; });  // inherits `copy`
    copy.reset();
    EXPECT_EQ(flock_free(f), EWOULDBLOCK) << "the child's inherited descriptor still holds it";
    say(go.write);
    ASSERT_TRUE(child.wait().ok());
    EXPECT_EQ(flock_free(f), 0) << "the last descriptor closed: the lock is gone";
}

TEST(FileLock, FlockAndFcntlLocksDoNotSeeEachOther) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(::flock(fd.get(), LOCK_EX | LOCK_NB), 0);
    auto child = kit::spawn([&] { return lock(f.open().get(), F_SETLK, F_WRLCK); });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << "fcntl saw the flock lock: " << st.describe();
}

// ------------------------------------------------------ advisory, not mandatory

TEST(FileLock, LocksAreAdvisoryAWriterThatDoesNotAskIsNotStopped) {
    LockFile f;
    auto fd = f.open();
    ASSERT_EQ(lock(fd.get(), F_SETLK, F_WRLCK), 0);
    ASSERT_EQ(::flock(fd.get(), LOCK_EX | LOCK_NB), 0);
    auto writer = kit::spawn([&] {
        kit::Fd w(kit::check(::open(f.path.c_str(), O_WRONLY | O_NONBLOCK), "open"));
        return ::pwrite(w.get(), "X", 1, 0) == 1 ? 0 : errno;
    });
    auto st = writer.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
    char c = 0;
    ASSERT_EQ(::pread(fd.get(), &c, 1, 0), 1);
    EXPECT_EQ(c, 'X') << "the locked byte was not written";
}

TEST(FileLock, MandatoryLockingModeIsIgnoredByThisKernel) {
    utsname u{};
    ASSERT_EQ(::uname(&u), 0);
    int major = 0, minor = 0;
    ASSERT_EQ(std::sscanf(u.release, "%d.%d", &major, &minor), 2);
    if (major < 5 || (major == 5 && minor < 15))
        GTEST_SKIP() << "kernel " << u.release
                     << " may still have mandatory locking (gone in 5.15)";
    LockFile f;
    // The old way to ask for mandatory locking on a file: set-group-ID, no group execute.
    ASSERT_EQ(::chmod(f.path.c_str(), S_ISGID | 0644), 0);
    struct stat st {};
    ASSERT_EQ(::stat(f.path.c_str(), &st), 0);
    if ((st.st_mode & S_ISGID) == 0) GTEST_SKIP() << "the file system cleared the set-group-ID bit";
    auto fd = f.open();
    ASSERT_EQ(lock(fd.get(), F_SETLK, F_WRLCK), 0);
    auto writer = kit::spawn([&] {
        kit::Fd w(kit::check(::open(f.path.c_str(), O_WRONLY | O_NONBLOCK), "open"));
        return ::pwrite(w.get(), "M", 1, 0) == 1 ? 0 : errno;  // enforced: EAGAIN
    });
    auto status = writer.wait();
    EXPECT_TRUE(status.ok()) << "the lock was enforced: " << status.describe();
}

// ----------------------------------------------------------- a holder dies

TEST(FileLockCrash, FcntlHolderKilledReleasesTheLockAndWakesTheWaiter) {
    LockFile f;
    auto ready = kit::make_pipe();
    auto h = kit::spawn([&] {
        auto mine = f.open();
        if (lock(mine.get(), F_SETLK, F_WRLCK) != 0) return 1;
        say(ready.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(heard(ready.read));
    auto waiter = kit::spawn([&] { return lock(f.open().get(), F_SETLKW, F_WRLCK); });
    ASSERT_TRUE(kit::wait_in_syscall(waiter.pid(), SYS_fcntl));
    ASSERT_EQ(::kill(h.pid(), SIGKILL), 0);
    ASSERT_TRUE(h.wait().killed_by(SIGKILL));
    auto st = waiter.wait();
    EXPECT_TRUE(st.ok()) << "the waiter did not get the dead holder's lock: " << st.describe();
    EXPECT_TRUE(exists(f.path.name())) << "the lock is gone, the file stays";
}

TEST(FileLockCrash, FlockHolderKilledReleasesTheLockAndWakesTheWaiter) {
    LockFile f;
    auto ready = kit::make_pipe();
    auto h = kit::spawn([&] {
        auto mine = f.open();
        if (::flock(mine.get(), LOCK_EX) != 0) return 1;
        say(ready.write);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(heard(ready.read));
    auto waiter = kit::spawn([&] { return ::flock(f.open().get(), LOCK_EX) == 0 ? 0 : errno; });
    ASSERT_TRUE(kit::wait_in_syscall(waiter.pid(), SYS_flock));
    ASSERT_EQ(::kill(h.pid(), SIGKILL), 0);
    ASSERT_TRUE(h.wait().killed_by(SIGKILL));
    auto st = waiter.wait();
    EXPECT_TRUE(st.ok()) << "the waiter did not get the dead holder's lock: " << st.describe();
    EXPECT_TRUE(exists(f.path.name()));
}
