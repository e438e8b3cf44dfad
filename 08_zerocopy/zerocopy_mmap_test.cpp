// Chapter 08 · Zero-copy: every path of the programs delivers the same bytes,
// the pitfalls of mmap (SIGBUS, msync, MAP_PRIVATE), and io_uring's splice.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "kit/child.hpp"
#include "kit/names.hpp"
#include "kit_test/program.hpp"
#include "smaps_dirty.hpp"
#include "stream_sum.hpp"
#include "zerocopy_test.hpp"

using namespace ch08::test;

namespace {

// Whether this filesystem writes a mapping's dirty pages to storage: after
// fsync() (which surely writes back) they are clean. On tmpfs/ramfs they stay
// dirty: the page cache is the only copy there is.
bool write_back_cleans(int fd, char* map, std::size_t len) {
    std::memset(map, '#', len);
    kit::check(::fsync(fd), "fsync");
    return ch08::dirty_kb(map) == 0;
}

}  // namespace

// ---- every path delivers the same bytes to another process -------------------

// The programs' receivers are other processes: each reads its destination to
// EOF and exits 0 only if it got every byte with the sender's checksum; the
// row then ends in "ok". Every one of the eleven (path, destination) rows must.
TEST(PathIntegrity, EveryPathDeliversTheSameChecksumToAnotherProcess) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> programs = {
        {"send_with_copies",
         {"read+write socket", "mmap+write socket", "read+write pipe", "mmap+write pipe",
          "copy_file_range file"}},
        {"send_by_reference",
         {"sendfile socket", "splice socket", "vmsplice+splice socket", "sendfile pipe",
          "splice pipe", "vmsplice+splice pipe"}}};
    for (const auto& [program, rows] : programs) {
        auto r = kit::test::run_program({kit::test::program_path(program), "4"}, {},
                                        std::chrono::seconds(20));
        ASSERT_TRUE(r.status.ok()) << program << ": " << r.status.describe() << "\n" << r.err;
        std::istringstream out(r.out);
        std::vector<std::string> ok_rows;
        for (std::string line; std::getline(out, line);) {
            std::istringstream words(line);
            std::string path, to, mib;
            words >> path >> to >> mib;
            if (mib == "4" && line.ends_with(" ok")) ok_rows.push_back(path + " " + to);
        }
        EXPECT_EQ(ok_rows, rows) << r.out;
    }
}

TEST(PathIntegrity, CopyFileRangeCopiesFileToFileAndRefusesAPipe) {
    constexpr std::size_t kSize = 1 << 20;
    TempFile src("zc-src"), dst("zc-dst");
    const std::uint64_t want = ch08::fill(src.fd.get(), kSize);
    loff_t in = 0, out = 0;
    while (in < loff_t(kSize))
        kit::check(::copy_file_range(src.fd.get(), &in, dst.fd.get(), &out, kSize, 0),
                   "copy_file_range");
    kit::check(::lseek(dst.fd.get(), 0, SEEK_SET), "lseek");
    ch08::Received got = ch08::drain(dst.fd.get());
    EXPECT_EQ(got.bytes, kSize);
    EXPECT_EQ(got.sum, want);
    kit::check(::pwrite(src.fd.get(), "NNNN", 4, 0), "pwrite");  // the copy is independent
    EXPECT_EQ(::lseek(dst.fd.get(), 0, SEEK_SET), 0);
    EXPECT_EQ(ch08::drain(dst.fd.get()).sum, want);
    kit::Pipe p = kit::make_pipe();
    kit::write_all(p.write.get(), std::as_bytes(std::span("x", 1)));
    errno = 0;
    EXPECT_EQ(::copy_file_range(p.read.get(), nullptr, dst.fd.get(), nullptr, 1, 0), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(PathIntegrity, TheCompareProgramReportsOkForAllElevenRows) {
    int ok = 0;
    for (const char* program : {"send_with_copies", "send_by_reference"}) {
        auto r = kit::test::run_program({kit::test::program_path(program), "1"}, {},
                                        std::chrono::seconds(20));
        ASSERT_TRUE(r.status.ok()) << program << ": " << r.status.describe() << "\n" << r.err;
        for (std::size_t pos = 0; (pos = r.out.find(" ok\n", pos)) != std::string::npos; ++pos)
            ++ok;
        EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos) << r.out;
    }
    EXPECT_EQ(ok, 11) << "5 rows of send_with_copies + 6 of send_by_reference";
}

// ---- mmap pitfalls ------------------------------------------------------------

TEST(MmapPitfalls, TouchingAPagePastTheEndOfATruncatedFileRaisesSigbus) {
    TempFile f = file_of(2 * kPage, 'x');
    auto* map = static_cast<volatile char*>(kit::check(
        ::mmap(nullptr, 2 * kPage, PROT_READ, MAP_SHARED, f.fd.get(), 0), MAP_FAILED, "mmap"));
    kit::Child child = kit::spawn([&] {
        ::signal(SIGBUS, SIG_DFL);  // a sanitizer's handler would turn the signal into an exit
        alarm(5);
        kit::check(::ftruncate(f.fd.get(), 100), "ftruncate");
        char c = map[kPage];  // the second page no longer has any file behind it
        return c == 'x' ? 3 : 4;
    });
    kit::ExitStatus st = child.wait();
    EXPECT_TRUE(st.killed_by(SIGBUS)) << st.describe();
    ::munmap(const_cast<char*>(map), 2 * kPage);
}

TEST(MmapPitfalls, BytesPastEofInTheLastPageReadAsZeroAndDoNotGrowTheFile) {
    TempFile f = file_of(100, 'x');
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get(), 0),
                   MAP_FAILED, "mmap"));
    EXPECT_EQ(map[99], 'x');
    EXPECT_EQ(map[100], 0) << "the rest of the last page reads as zeros, no SIGBUS";
    map[200] = 'Z';
    kit::check(::msync(map, kPage, MS_SYNC), "msync");
    EXPECT_EQ(::lseek(f.fd.get(), 0, SEEK_END), 100) << "the file did not grow";
    char c = 1;
    EXPECT_EQ(::pread(f.fd.get(), &c, 1, 200), 0) << "read() stops at end-of-file";
    ::munmap(map, kPage);
}

// Write-back writes whole pages, so it zeroes the part past EOF first: a store
// there is lost. Without write-back (tmpfs) the byte stays in the page cache
// and reappears when the file grows: never store past EOF.
TEST(MmapPitfalls, WriteBackDropsStoresPastEofInTheLastPage) {
    TempFile f = file_of(100, 'x');
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get(), 0),
                   MAP_FAILED, "mmap"));
    map[200] = 'Z';
    kit::check(::msync(map, kPage, MS_SYNC), "msync");
    if (ch08::dirty_kb(map) != 0) {
        ::munmap(map, kPage);
        GTEST_SKIP() << "msync wrote nothing back (tmpfs?): the stored byte survives here";
    }
    kit::check(::ftruncate(f.fd.get(), off_t(kPage)), "ftruncate");  // grow over byte 200
    char c = 1;
    ASSERT_EQ(::pread(f.fd.get(), &c, 1, 200), 1);
    EXPECT_EQ(c, 0) << "the byte stored past EOF was zeroed by write-back";
    ::munmap(map, kPage);
}

TEST(MmapPitfalls, MapSharedWritesAreSeenByReadInAnotherProcessWithoutMsync) {
    TempFile f = file_of(kPage, '.');
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get(), 0),
                   MAP_FAILED, "mmap"));
    std::memcpy(map, "shared", 6);  // no msync: the mapping IS the page cache
    kit::Child reader = kit::spawn([&] {
        char buf[6];
        kit::Fd fd(kit::check(::open(f.name.c_str(), O_RDONLY), "open"));
        return kit::check(::pread(fd.get(), buf, 6, 0), "pread") == 6 &&
                       std::string_view(buf, 6) == "shared"
                   ? 0
                   : 1;
    });
    EXPECT_TRUE(reader.wait().ok());
    ::munmap(map, kPage);
}

TEST(MmapPitfalls, MapPrivateWritesNeverReachTheFile) {
    TempFile f = file_of(kPage, '.');
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, f.fd.get(), 0),
                   MAP_FAILED, "mmap"));
    std::memcpy(map, "private", 7);
    kit::check(::msync(map, kPage, MS_SYNC), "msync");
    char buf[7];
    ASSERT_EQ(::pread(f.fd.get(), buf, 7, 0), 7);
    EXPECT_EQ(std::string_view(buf, 7), ".......");
    ::munmap(map, kPage);
}

TEST(MmapPitfalls, MsyncWithMsSyncWritesTheDirtyPagesBack) {
    const std::size_t len = 4 * kPage;
    const long len_kb = long(len / 1024);
    TempFile f = file_of(len, '.');
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get(), 0),
                   MAP_FAILED, "mmap"));
    if (!write_back_cleans(f.fd.get(), map, len)) {
        ::munmap(map, len);
        GTEST_SKIP() << "the temp directory has no storage behind it (tmpfs?): pages stay dirty";
    }
    // Background write-back may clean the pages at any moment: dirty them again then.
    for (int attempt = 0; attempt < 3 && ch08::dirty_kb(map) != len_kb; ++attempt)
        std::memset(map, 'a' + attempt, len);
    ASSERT_EQ(ch08::dirty_kb(map), len_kb) << "four dirty pages, not yet on storage";
    kit::check(::msync(map, len, MS_SYNC), "msync");
    EXPECT_EQ(ch08::dirty_kb(map), 0) << "written back and clean";
    ::munmap(map, len);
}

TEST(MmapPitfalls, MsyncRejectsAnUnalignedAddressWithEinval) {
    TempFile f = file_of(kPage, '.');
    auto* map = static_cast<char*>(
        kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get(), 0),
                   MAP_FAILED, "mmap"));
    errno = 0;
    EXPECT_EQ(::msync(map + 1, 10, MS_SYNC), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(::msync(map, kPage, MS_SYNC | MS_ASYNC), -1);
    EXPECT_EQ(errno, EINVAL) << "MS_SYNC and MS_ASYNC together";
    ::munmap(map, kPage);
    errno = 0;
    EXPECT_EQ(::msync(map, kPage, MS_SYNC), -1);
    EXPECT_EQ(errno, ENOMEM) << "no longer mapped";
}

// ---- io_uring ---------------------------------------------------------------

// IORING_OP_SPLICE exists since Linux 5.7; the program says "cannot show it
// here" where io_uring is missing or refused, and the test skips with its reason.
TEST(IoUring, ASpliceSubmittedThroughTheRingDeliversTheFileToAnotherProcess) {
    auto r = kit::test::run_program({kit::test::program_path("uring_splice")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.out << r.err;
    if (r.out.find("cannot show it here") != std::string::npos) GTEST_SKIP() << r.out;
    ASSERT_TRUE(kernel_at_least(5, 7))
        << "the program must refuse a kernel without IORING_OP_SPLICE";
    EXPECT_NE(r.out.find("completion: res=47 bytes"), std::string::npos) << r.out;
    EXPECT_NE(
        r.out.find("child read 47 bytes: \"spliced by the kernel, submitted through a ring\""),
        std::string::npos)
        << r.out;
}
