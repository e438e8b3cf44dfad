// Chapter 05 · Shared memory: POSIX objects (shm_open + ftruncate + mmap),
// anonymous and file-backed mappings, MAP_SHARED vs MAP_PRIVATE across fork.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "shm_test_util.hpp"

using namespace ch05::test;

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
