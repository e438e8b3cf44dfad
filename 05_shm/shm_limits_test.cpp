// Chapter 05 · Shared memory in a container: a small /dev/shm (Docker gives
// 64 MiB) and what it does to shm_open, posix_fallocate and memfd_create;
// memfd seals. The small tmpfs is made in a private mount namespace, so the
// machine's /dev/shm is never touched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "shm_test_util.hpp"

using namespace ch05::test;

namespace {

constexpr std::size_t kTmpfsSize = 1 << 20;  // size=1m: 256 pages
constexpr std::size_t kObject = 4 << 20;     // four times that

// What a child saw with a 1 MiB tmpfs mounted on its /dev/shm.
struct SmallDevShm {
    int setup_errno;  // why the namespace or the mount was refused (0: it was not)
    const char* setup_step;
    int ftruncate_rc;   // ftruncate(4 MiB) of a shm_open object
    int fallocate_err;  // posix_fallocate(4 MiB) of another one
    long touched;       // pages a grandchild stored into before it died
    int toucher_signal;
    int memfd_ok;  // a 4 MiB memfd, every page stored into
};

// In a new mount namespace (a new user namespace makes that unprivileged),
// nothing we mount is seen outside; then a 1 MiB tmpfs on /dev/shm.
// Writes `text` to a /proc file; 0 or errno.
int write_proc(const char* path, const std::string& text) {
    kit::Fd fd(::open(path, O_WRONLY | O_CLOEXEC));
    if (!fd) return errno;
    return ::write(fd.get(), text.data(), text.size()) == ssize_t(text.size()) ? 0 : errno;
}

int small_dev_shm(SmallDevShm& r) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
        // Map ourselves, or files we create would have no owner (EOVERFLOW).
        r.setup_step = "uid_map/gid_map";
        if (int err = write_proc("/proc/self/setgroups", "deny"); err != 0) return err;
        if (int err = write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1"); err != 0)
            return err;
        if (int err = write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"); err != 0)
            return err;
    } else if (::unshare(CLONE_NEWNS) == -1) {
        r.setup_step = "unshare";
        return errno;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == -1) {
        r.setup_step = "mount(MS_PRIVATE)";
        return errno;
    }
    if (::mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=1m") == -1) {
        r.setup_step = "mount(tmpfs, size=1m)";
        return errno;
    }
    return 0;
}

// Stores one byte into each page of `m`, counting in `touched`, until done
// or killed by SIGBUS (a page the full tmpfs cannot supply).
int touch_every_page(const Mapping& m, std::size_t size, long& touched) {
    default_action(SIGBUS);
    for (std::size_t off = 0; off < size; off += kPage) {
        m.chars()[off] = 1;
        ++touched;
    }
    return 0;
}

}  // namespace

// A container's /dev/shm is a small tmpfs. ftruncate only sets a size: it
// succeeds far beyond the free space, and the shortage shows up later, as
// SIGBUS at the first touch of a page the tmpfs cannot supply.
// posix_fallocate asks for the pages up front and reports ENOSPC instead.
// memfd_create is not on /dev/shm at all, so its limit does not apply.
TEST(ShmLimits, SmallDevShmTruncatesBeyondItsSizeFaultsLaterAndSparesMemfd) {
    auto mem = shared_anon(sizeof(SmallDevShm));
    auto& r = mem.as<SmallDevShm>();
    auto child = kit::spawn([&] {
        if ((r.setup_errno = small_dev_shm(r)) != 0) return 77;
        auto truncated = kit::shm_unlink_guard(kit::unique_posix_name("big"));
        kit::Fd fd(
            kit::check(::shm_open(truncated.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open"));
        r.ftruncate_rc = ::ftruncate(fd.get(), kObject);
        Mapping m(kObject, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
        auto toucher = kit::spawn([&] { return touch_every_page(m, kObject, r.touched); });
        auto st = toucher.wait();
        r.toucher_signal = st.signal;

        auto allocated = kit::shm_unlink_guard(kit::unique_posix_name("alloc"));
        kit::Fd fd2(
            kit::check(::shm_open(allocated.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open"));
        r.fallocate_err = ::posix_fallocate(fd2.get(), 0, kObject);  // an error number, not -1

        kit::Fd anon(kit::check(::memfd_create("big", MFD_CLOEXEC), "memfd_create"));
        kit::check(::ftruncate(anon.get(), kObject), "ftruncate");
        Mapping am(kObject, PROT_READ | PROT_WRITE, MAP_SHARED, anon.get());
        long memfd_pages = 0;
        auto memfd_toucher = kit::spawn([&] { return touch_every_page(am, kObject, memfd_pages); });
        r.memfd_ok = memfd_toucher.wait().ok();
        return 0;
    });
    auto status = child.wait();
    if (status.exited_with(77))
        GTEST_SKIP() << "no private 1 MiB tmpfs here: " << r.setup_step << ": "
                     << std::strerror(r.setup_errno);
    ASSERT_TRUE(status.ok()) << status.describe();
    EXPECT_EQ(r.ftruncate_rc, 0) << "ftruncate(4 MiB) on a 1 MiB tmpfs succeeds";
    EXPECT_EQ(r.toucher_signal, SIGBUS) << "the page the tmpfs cannot supply";
    EXPECT_GT(r.touched, 0);
    EXPECT_LE(r.touched, long(kTmpfsSize / kPage)) << "no more pages than the tmpfs holds";
    EXPECT_EQ(r.fallocate_err, ENOSPC) << "posix_fallocate says so up front";
    EXPECT_TRUE(r.memfd_ok) << "a memfd is not charged to /dev/shm";
}

// ---------------------------------------------------------------- memfd seals

namespace {
int add_seals(int fd, int seals) { return ::fcntl(fd, F_ADD_SEALS, seals) == 0 ? 0 : errno; }
kit::Fd sealable_memfd(std::size_t size) {
    kit::Fd fd(
        kit::check(::memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING), "memfd_create"));
    kit::check(::ftruncate(fd.get(), off_t(size)), "ftruncate");
    return fd;
}
int errno_of(long rc) { return rc == -1 ? errno : 0; }
}  // namespace

// Seals make a memfd safe to hand to a process you do not trust: once
// sealed, the receiver can rely on the size and contents staying put.
TEST(MemfdSeals, EachSealRefusesItsOperationWithEperm) {
    kit::Fd fd = sealable_memfd(2 * kPage);
    ASSERT_EQ(add_seals(fd.get(), F_SEAL_SHRINK), 0);
    EXPECT_EQ(errno_of(::ftruncate(fd.get(), kPage)), EPERM) << "F_SEAL_SHRINK";
    EXPECT_EQ(errno_of(::ftruncate(fd.get(), 4 * kPage)), 0) << "growing is still allowed";

    ASSERT_EQ(add_seals(fd.get(), F_SEAL_GROW), 0);
    EXPECT_EQ(errno_of(::ftruncate(fd.get(), 8 * kPage)), EPERM) << "F_SEAL_GROW";
    EXPECT_EQ(errno_of(::pwrite(fd.get(), "x", 1, 4 * kPage)), EPERM) << "a write past the end";
    EXPECT_EQ(errno_of(::pwrite(fd.get(), "x", 1, 0)), 0) << "a write inside is still allowed";

    ASSERT_EQ(add_seals(fd.get(), F_SEAL_WRITE), 0);
    EXPECT_EQ(errno_of(::pwrite(fd.get(), "y", 1, 0)), EPERM) << "F_SEAL_WRITE";
    EXPECT_EQ(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0), MAP_FAILED);
    EXPECT_EQ(errno, EPERM) << "no writable shared mapping either";
    Mapping readonly(kPage, PROT_READ, MAP_SHARED, fd.get());
    EXPECT_EQ(readonly.chars()[0], 'x');

    ASSERT_EQ(add_seals(fd.get(), F_SEAL_SEAL), 0);
    EXPECT_EQ(add_seals(fd.get(), F_SEAL_FUTURE_WRITE), EPERM) << "F_SEAL_SEAL: no more seals";
    EXPECT_EQ(::fcntl(fd.get(), F_GET_SEALS),
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
}

TEST(MemfdSeals, WithoutAllowSealingNoSealCanBeAdded) {
    kit::Fd fd(kit::check(::memfd_create("plain", MFD_CLOEXEC), "memfd_create"));
    EXPECT_EQ(::fcntl(fd.get(), F_GET_SEALS), F_SEAL_SEAL);
    EXPECT_EQ(add_seals(fd.get(), F_SEAL_WRITE), EPERM);
}

// F_SEAL_WRITE cannot be added while someone could still write through a
// shared mapping: EBUSY until that mapping is gone.
TEST(MemfdSeals, SealWriteIsEbusyWhileAWritableSharedMappingExists) {
    kit::Fd fd = sealable_memfd(kPage);
    {
        Mapping writable(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
        std::strcpy(writable.chars(), "final");
        EXPECT_EQ(add_seals(fd.get(), F_SEAL_WRITE), EBUSY);
    }
    EXPECT_EQ(add_seals(fd.get(), F_SEAL_WRITE), 0);
    auto reader = kit::spawn([&] {  // another process sees the sealed bytes
        Mapping m(kPage, PROT_READ, MAP_SHARED, fd.get());
        return std::strcmp(m.chars(), "final") == 0 ? 0 : 1;
    });
    EXPECT_TRUE(reader.wait().ok());
}
