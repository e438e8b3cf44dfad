// Chapter 05 · Shared memory: System V and POSIX objects, anonymous and
// file-backed mappings, their life cycles, and what a transfer costs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "kit/sanitizer.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/seccomp.hpp"
#include "kit/wait.hpp"

namespace {

constexpr std::size_t kPage = 4096;
void* const kShmatFailed = reinterpret_cast<void*>(-1);

// An mmap()ed region, unmapped when the test ends.
class Mapping {
public:
    Mapping(std::size_t size, int prot, int flags, int fd = -1)
        : size_(size),
          p_(kit::check(::mmap(nullptr, size, prot, flags, fd, 0), MAP_FAILED, "mmap")) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { ::munmap(p_, size_); }
    [[nodiscard]] char* chars() const { return static_cast<char*>(p_); }
    template <class T>
    [[nodiscard]] T& as() const {
        return *static_cast<T*>(p_);
    }

private:
    std::size_t size_;
    void* p_;
};

Mapping shared_anon(std::size_t size = kPage) {
    return Mapping(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
}

// A System V attachment, detached when the test ends.
class Attachment {
public:
    explicit Attachment(int id, int flags = 0)
        : p_(kit::check(::shmat(id, nullptr, flags), kShmatFailed, "shmat")) {}
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;
    ~Attachment() { detach(); }
    void detach() {
        if (p_) ::shmdt(std::exchange(p_, nullptr));
    }
    [[nodiscard]] char* chars() const { return static_cast<char*>(p_); }

private:
    void* p_;
};

shmid_ds stat_segment(int id) {
    shmid_ds ds{};
    kit::check(::shmctl(id, IPC_STAT, &ds), "shmctl");
    return ds;
}

// One byte: "your turn". Waiting is bounded, so a dead peer fails the test.
void go(const kit::Fd& fd) {
    kit::write_all(fd.get(), std::as_bytes(std::span("g", 1)));
}
[[nodiscard]] bool await(const kit::Fd& fd) {
    std::array<std::byte, 1> b{};
    return kit::wait_readable(fd.get()) && kit::read_full(fd.get(), b) == 1;
}

// A key no segment uses yet (IPC_EXCL refuses one that exists).
int create_with_fresh_key(key_t& key) {
    for (key = static_cast<key_t>(0x05100000 + ::getpid() * 16);; ++key) {
        int id = ::shmget(key, kPage, IPC_CREAT | IPC_EXCL | 0600);
        if (id != -1 || errno != EEXIST) return kit::check(id, "shmget");
    }
}

// The object behind an fd from shm_open, created with `size` bytes.
kit::Fd create_posix(const kit::NameGuard& name, off_t size) {
    kit::Fd fd(kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open"));
    kit::check(::ftruncate(fd.get(), size), "ftruncate");
    return fd;
}

// A child that dies of a signal should die of that signal, also under
// AddressSanitizer (which would otherwise catch SIGSEGV/SIGBUS and exit 1).
void default_action(int sig) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
}

}  // namespace

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

// ------------------------------------------------------------------- POSIX

TEST(PosixShm, TwoProcessesMeetByName) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("meet"));
    kit::Fd fd = create_posix(name, kPage);
    auto child = kit::spawn([&] {  // opens and maps by name, not through the parent's fd
        kit::Fd own(kit::check(::shm_open(name.c_str(), O_RDWR, 0), "shm_open"));
        Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, own.get());
        std::strcpy(m.chars(), "met by name");
        return 0;
    });
    ASSERT_TRUE(child.wait().ok());
    Mapping mine(kPage, PROT_READ, MAP_SHARED, fd.get());
    EXPECT_STREQ(mine.chars(), "met by name");
}

TEST(PosixShm, ObjectIsAFileInDevShm) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("file"));
    kit::Fd fd = create_posix(name, 3 * kPage);
    struct stat st {};
    ASSERT_EQ(::stat(("/dev/shm" + name.name()).c_str(), &st), 0) << std::strerror(errno);
    EXPECT_EQ(st.st_size, off_t(3 * kPage));
    EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(PosixShm, NewObjectHasSizeZeroAndTouchingItIsSigbus) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("empty"));
    kit::Fd fd(kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open"));
    struct stat st {};
    ASSERT_EQ(::fstat(fd.get(), &st), 0);
    EXPECT_EQ(st.st_size, 0);
    Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());  // mmap itself succeeds
    auto child = kit::spawn([&] {
        default_action(SIGBUS);
        *static_cast<volatile char*>(m.chars()) = 'x';  // no page behind it: forgot ftruncate
        return 0;
    });
    auto status = child.wait();
    EXPECT_TRUE(status.killed_by(SIGBUS)) << status.describe();
}

TEST(PosixShm, ExclusiveCreateOfAnExistingNameIsEexist) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("excl"));
    kit::Fd fd = create_posix(name, kPage);
    EXPECT_EQ(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), -1);
    EXPECT_EQ(errno, EEXIST);
}

TEST(PosixLifecycle, ObjectOutlivesItsCreatorUntilUnlinked) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("persist"));
    auto creator = kit::spawn([&] {
        kit::Fd fd = create_posix(name, kPage);
        Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
        std::strcpy(m.chars(), "left by the creator");
        return 0;  // unmaps, closes and exits; no shm_unlink
    });
    ASSERT_TRUE(creator.wait().ok());
    kit::Fd fd(kit::check(::shm_open(name.c_str(), O_RDONLY, 0), "shm_open"));
    Mapping m(kPage, PROT_READ, MAP_SHARED, fd.get());
    EXPECT_STREQ(m.chars(), "left by the creator");
}

TEST(PosixLifecycle, UnlinkRemovesTheNameButMappingsKeepWorking) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("unlink"));
    kit::Fd fd = create_posix(name, kPage);
    Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
    fd.reset();
    auto turn = kit::make_pipe();
    auto child = kit::spawn([&] {
        if (!await(turn.read)) return 2;
        std::strcpy(m.chars(), "after the unlink");
        return 0;
    });
    ASSERT_EQ(::shm_unlink(name.c_str()), 0);
    EXPECT_EQ(::shm_open(name.c_str(), O_RDWR, 0), -1);
    EXPECT_EQ(errno, ENOENT);
    go(turn.write);
    ASSERT_TRUE(child.wait().ok());
    EXPECT_STREQ(m.chars(), "after the unlink");
}

TEST(PosixLifecycle, SameNameAfterUnlinkIsANewEmptyObject) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("reuse"));
    kit::Fd old_fd = create_posix(name, kPage);
    Mapping old_map(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, old_fd.get());
    std::strcpy(old_map.chars(), "old object");
    ASSERT_EQ(::shm_unlink(name.c_str()), 0);
    kit::Fd new_fd = create_posix(name, kPage);
    Mapping new_map(kPage, PROT_READ, MAP_SHARED, new_fd.get());
    EXPECT_STREQ(new_map.chars(), "");
    EXPECT_STREQ(old_map.chars(), "old object");
}

// -------------------------------------------------------- mappings and fork

TEST(ForkSharing, OrdinaryMemoryIsCopiedNotShared) {
    static long plain = 1;  // a global: the child gets its own copy
    auto child = kit::spawn([] {
        plain = 42;
        return plain == 42 ? 0 : 1;
    });
    ASSERT_TRUE(child.wait().ok());
    EXPECT_EQ(plain, 1);
}

TEST(ForkSharing, MapSharedAnonymousIsSharedWithTheChild) {
    auto m = shared_anon();
    auto child = kit::spawn([&] { std::strcpy(m.chars(), "from the child"); });
    ASSERT_TRUE(child.wait().ok());
    EXPECT_STREQ(m.chars(), "from the child");
}

TEST(ForkSharing, MapPrivateAnonymousIsCopiedOnWrite) {
    Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    std::strcpy(m.chars(), "parent");
    auto child = kit::spawn([&] {
        bool saw_parent = std::strcmp(m.chars(), "parent") == 0;  // inherited contents
        std::strcpy(m.chars(), "child");
        return saw_parent ? 0 : 1;
    });
    ASSERT_TRUE(child.wait().ok());
    EXPECT_STREQ(m.chars(), "parent");
}

TEST(MapPrivate, SeesOtherWritesUntilItWritesThePageItself) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("cow"));
    kit::Fd fd = create_posix(name, kPage);
    Mapping priv(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get());
    auto turn = kit::make_pipe(), done = kit::make_pipe();
    auto writer = kit::spawn([&] {  // writes the object through its own MAP_SHARED mapping
        Mapping shared(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
        std::strcpy(shared.chars(), "v1");
        go(done.write);
        if (!await(turn.read)) return 2;
        std::strcpy(shared.chars(), "v2");
        return 0;
    });
    ASSERT_TRUE(await(done.read));
    EXPECT_STREQ(priv.chars(), "v1");  // not yet copied: the object's own page (Linux)
    priv.chars()[0] = 'P';             // copy-on-write happens here
    go(turn.write);
    ASSERT_TRUE(writer.wait().ok());
    EXPECT_STREQ(priv.chars(), "P1");  // the private copy stopped following the object
}

TEST(MapPrivate, PrivateWritesNeverReachTheObject) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("priv"));
    kit::Fd fd = create_posix(name, kPage);
    {
        Mapping priv(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get());
        std::strcpy(priv.chars(), "private");
    }
    auto reader = kit::spawn([&] {
        Mapping shared(kPage, PROT_READ, MAP_SHARED, fd.get());
        return shared.chars()[0] == '\0' ? 0 : 1;
    });
    EXPECT_TRUE(reader.wait().ok());
}

TEST(FileMapping, StoresAreVisibleToReadWithoutMsync) {
    auto path = kit::unlink_guard(kit::unique_temp_path("mapped"));
    kit::Fd fd(kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "open"));
    kit::check(::ftruncate(fd.get(), kPage), "ftruncate");
    auto child = kit::spawn([&] {
        kit::Fd own(kit::check(::open(path.c_str(), O_RDWR), "open"));
        Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, own.get());
        std::strcpy(m.chars(), "stored, never msync'ed");
        return 0;
    });
    ASSERT_TRUE(child.wait().ok());
    std::array<char, 32> buf{};
    ASSERT_GT(::pread(fd.get(), buf.data(), buf.size() - 1, 0), 0);
    EXPECT_STREQ(buf.data(), "stored, never msync'ed");
}

TEST(FileMapping, PwriteByOneProcessIsVisibleInAnothersMapping) {
    auto path = kit::unlink_guard(kit::unique_temp_path("mapped"));
    kit::Fd fd(kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "open"));
    kit::check(::ftruncate(fd.get(), kPage), "ftruncate");
    Mapping m(kPage, PROT_READ, MAP_SHARED, fd.get());
    auto child = kit::spawn([&] {
        kit::Fd own(kit::check(::open(path.c_str(), O_WRONLY), "open"));
        kit::check(::pwrite(own.get(), "written with pwrite", 20, 0), "pwrite");
        return 0;
    });
    ASSERT_TRUE(child.wait().ok());
    EXPECT_STREQ(m.chars(), "written with pwrite");
}

// ------------------------------------------------------- what a transfer costs

namespace {
// ThreadSanitizer's runtime makes system calls of its own (it maps memory
// for a process's first events), so under it no filter can prove anything.
using kit::kThreadSanitizer;

struct Transfer {
    sem_t lock;
    alignas(kPage) std::array<unsigned char, 64 * kPage> data;
};

// Kills the calling process on every system call but exit_group.
void forbid_all_system_calls() {
    if (int err = kit::forbid_system_calls(kit::OnSyscall::kill); err != 0)
        throw kit::SysError(err, "prctl(PR_SET_SECCOMP)");
}

// The one call the filter allows. (Not _exit(): under AddressSanitizer every
// call to a noreturn function first calls sigaltstack, which the filter kills.)
void exit_group_only(int status) {
    ::syscall(SYS_exit_group, status);
}

bool seccomp_available() {
    if (kThreadSanitizer) return false;
    auto probe = kit::spawn([] {
        forbid_all_system_calls();
        exit_group_only(0);
    });
    return probe.wait().ok();
}
}  // namespace

TEST(ShmCost, TransferAndUncontendedSemaphoreMakeNoSystemCall) {
    if (!seccomp_available())
        GTEST_SKIP() << "seccomp filters are not available here (or ThreadSanitizer, whose runtime "
                        "makes system calls)";
    auto m = shared_anon(sizeof(Transfer));
    auto& t = m.as<Transfer>();
    ASSERT_EQ(::sem_init(&t.lock, 1, 1), 0);
    auto child = kit::spawn([&] {
        forbid_all_system_calls();  // from here on, any system call kills the child
        ::sem_wait(&t.lock);
        std::memset(t.data.data(), 0x5A, t.data.size());
        ::sem_post(&t.lock);
        exit_group_only(0);
    });
    auto status = child.wait();
    ASSERT_TRUE(status.ok()) << status.describe();
    EXPECT_TRUE(
        std::all_of(t.data.begin(), t.data.end(), [](unsigned char c) { return c == 0x5A; }));
    int value = -1;
    ASSERT_EQ(::sem_getvalue(&t.lock, &value), 0);
    EXPECT_EQ(value, 1);  // the child took and gave back the semaphore
    ::sem_destroy(&t.lock);
}

TEST(ShmCost, PipeWriteUnderTheSameFilterIsKilledBySigsys) {
    if (!seccomp_available())
        GTEST_SKIP() << "seccomp filters are not available here (or ThreadSanitizer, whose runtime "
                        "makes system calls)";
    auto p = kit::make_pipe();
    auto child = kit::spawn([&] {
        forbid_all_system_calls();
        (void)::write(p.write.get(), "x", 1);
        exit_group_only(0);
    });
    auto status = child.wait();
    EXPECT_TRUE(status.killed_by(SIGSYS)) << status.describe();
    EXPECT_FALSE(
        kit::wait_readable(p.read.get(), std::chrono::milliseconds(0)));  // nothing got through
}

TEST(ShmCost, FirstTouchOfEachPageIsAPageFault) {
    auto thp = kit::read_text_file("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    if (thp && thp->find("[never]") == std::string::npos &&
        thp->find("[advise]") == std::string::npos && thp->find("[deny]") == std::string::npos)
        GTEST_SKIP() << "shared memory may use huge pages here: " << *thp;
    constexpr std::size_t kPages = 64;
    auto m = shared_anon(kPages * kPage);
    auto counts = shared_anon();
    auto child = kit::spawn([&] {
        rusage before{}, after{}, again{};
        kit::check(::getrusage(RUSAGE_SELF, &before), "getrusage");
        for (std::size_t i = 0; i < kPages; ++i) m.chars()[i * kPage] = 1;  // first touch
        kit::check(::getrusage(RUSAGE_SELF, &after), "getrusage");
        for (std::size_t i = 0; i < kPages; ++i) m.chars()[i * kPage] = 2;  // pages are there now
        kit::check(::getrusage(RUSAGE_SELF, &again), "getrusage");
        counts.as<std::array<long, 2>>() = {after.ru_minflt - before.ru_minflt,
                                            again.ru_minflt - after.ru_minflt};
        return 0;
    });
    ASSERT_TRUE(child.wait().ok());
    auto [first, second] = counts.as<std::array<long, 2>>();
    EXPECT_GE(first, long(kPages));
    EXPECT_LT(second, long(kPages));
}
