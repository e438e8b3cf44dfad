// Chapter 08 · Zero-copy: every rule and every claim of the lesson, on this kernel.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include <climits>
#include <string>

#include "kit/child.hpp"
#include "kit_test/program.hpp"
#include "kit/names.hpp"
#include "send_paths.hpp"
#include "smaps_dirty.hpp"

namespace {

// A regular file in the temp directory, removed however the test ends.
struct TempFile {
    kit::NameGuard name;
    kit::Fd fd;
    explicit TempFile(std::string_view what)
        : name(kit::unlink_guard(kit::unique_temp_path(what))),
          fd(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open")) {}
};

// A file holding `n` copies of `c`.
TempFile file_of(std::size_t n, char c) {
    TempFile f("zc");
    std::string s(n, c);
    kit::write_all(f.fd.get(), std::as_bytes(std::span(s)));
    return f;
}

std::string read_n(int fd, std::size_t n) {
    std::string s(n, '\0');
    s.resize(kit::read_full(fd, std::as_writable_bytes(std::span(s))));
    return s;
}

struct SocketPair {
    kit::Fd a, b;
};
SocketPair socket_pair(int type = SOCK_STREAM) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), "socketpair");
    return {kit::Fd(sv[0]), kit::Fd(sv[1])};
}

// One page: the unit of mapping, of SIGBUS, and of what a pipe buffer references.
const std::size_t kPage = std::size_t(::sysconf(_SC_PAGESIZE));

// Whether this filesystem writes a mapping's dirty pages to storage: after
// fsync() (which surely writes back) they are clean. On tmpfs/ramfs they stay
// dirty: the page cache is the only copy there is.
bool write_back_cleans(int fd, char* map, std::size_t len) {
    std::memset(map, '#', len);
    kit::check(::fsync(fd), "fsync");
    return zc::dirty_kb(map) == 0;
}

}  // namespace

// ---- splice(2) ----------------------------------------------------------------

TEST(SpliceRules, WithoutAPipeOnEitherSideFailsWithEinval) {
    TempFile in = file_of(kPage, 'a'), out("zc-out");
    SocketPair s = socket_pair();
    loff_t off = 0;
    errno = 0;
    EXPECT_EQ(::splice(in.fd.get(), &off, out.fd.get(), nullptr, 100, 0), -1);
    EXPECT_EQ(errno, EINVAL) << "file -> file";
    errno = 0;
    EXPECT_EQ(::splice(in.fd.get(), &off, s.a.get(), nullptr, 100, 0), -1);
    EXPECT_EQ(errno, EINVAL) << "file -> socket";
    // The same file -> socket works when a pipe sits in between.
    kit::Pipe p = kit::make_pipe();
    ASSERT_EQ(::splice(in.fd.get(), &off, p.write.get(), nullptr, 100, 0), 100);
    ASSERT_EQ(::splice(p.read.get(), nullptr, s.a.get(), nullptr, 100, 0), 100);
    EXPECT_EQ(read_n(s.b.get(), 100), std::string(100, 'a'));
}

TEST(SpliceRules, AnOffsetForThePipeSideFailsWithEspipe) {
    TempFile f = file_of(kPage, 'a');
    kit::Pipe p = kit::make_pipe();
    loff_t off = 0;
    errno = 0;
    EXPECT_EQ(::splice(f.fd.get(), nullptr, p.write.get(), &off, 10, 0), -1);
    EXPECT_EQ(errno, ESPIPE) << "offset given for the pipe it writes to";
    kit::write_all(p.write.get(), std::as_bytes(std::span("hello", 5)));
    errno = 0;
    EXPECT_EQ(::splice(p.read.get(), &off, f.fd.get(), nullptr, 5, 0), -1);
    EXPECT_EQ(errno, ESPIPE) << "offset given for the pipe it reads from";
}

TEST(SpliceRules, IntoAnAppendModeFileOrTheSamePipeFailsWithEinval) {
    TempFile f("zc-out");
    kit::Fd app(kit::check(::open(f.name.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC), "open"));
    kit::Pipe p = kit::make_pipe();
    kit::write_all(p.write.get(), std::as_bytes(std::span("hello", 5)));
    errno = 0;
    EXPECT_EQ(::splice(p.read.get(), nullptr, app.get(), nullptr, 5, 0), -1);
    EXPECT_EQ(errno, EINVAL) << "O_APPEND destination";
    errno = 0;
    EXPECT_EQ(::splice(p.read.get(), nullptr, p.write.get(), nullptr, 5, 0), -1);
    EXPECT_EQ(errno, EINVAL) << "the same pipe on both sides";
    EXPECT_EQ(read_n(p.read.get(), 5), "hello") << "nothing was consumed";
}

TEST(SpliceRules, VmspliceIntoAnythingButAPipeFailsWithEbadf) {
    TempFile f("zc-out");
    SocketPair s = socket_pair();
    char buf[3] = {'a', 'b', 'c'};
    iovec iov{buf, sizeof buf};
    errno = 0;
    EXPECT_EQ(::vmsplice(f.fd.get(), &iov, 1, 0), -1);
    EXPECT_EQ(errno, EBADF) << "a file";
    errno = 0;
    EXPECT_EQ(::vmsplice(s.a.get(), &iov, 1, 0), -1);
    EXPECT_EQ(errno, EBADF) << "a socket";
}

// ---- sendfile(2) --------------------------------------------------------------

TEST(SendfileRules, APipeAsInputFailsWithEinval) {
    TempFile out("zc-out");
    kit::Pipe p = kit::make_pipe();
    kit::write_all(p.write.get(), std::as_bytes(std::span("xyz", 3)));
    errno = 0;
    EXPECT_EQ(::sendfile(out.fd.get(), p.read.get(), nullptr, 3), -1);
    EXPECT_EQ(errno, EINVAL);
    off_t off = 0;  // with an offset pointer the unseekable input is caught first
    errno = 0;
    EXPECT_EQ(::sendfile(out.fd.get(), p.read.get(), &off, 3), -1);
    EXPECT_EQ(errno, ESPIPE);
    EXPECT_EQ(read_n(p.read.get(), 3), "xyz") << "nothing was consumed";
}

TEST(SendfileRules, ASocketAsInputToAFileFailsWithEinval) {
    TempFile out("zc-out");
    SocketPair s = socket_pair();
    kit::write_all(s.b.get(), std::as_bytes(std::span("abc", 3)));
    errno = 0;
    EXPECT_EQ(::sendfile(out.fd.get(), s.a.get(), nullptr, 3), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(SendfileRules, ASocketAsInputToAPipeIsAcceptedByThisKernel) {
    SocketPair s = socket_pair();
    kit::Pipe p = kit::make_pipe();
    kit::write_all(s.b.get(), std::as_bytes(std::span("abc", 3)));
    ssize_t n = ::sendfile(p.write.get(), s.a.get(), nullptr, 3);
    if (n == -1 && errno == EINVAL)
        GTEST_SKIP() << "this kernel still refuses a socket as sendfile input (older kernels do)";
    ASSERT_EQ(n, 3);
    EXPECT_EQ(read_n(p.read.get(), 3), "abc");
}

TEST(SendfileRules, AnOffsetPointerLeavesTheFileOffsetAlone) {
    TempFile f = file_of(kPage, 'a');
    kit::check(::lseek(f.fd.get(), 10, SEEK_SET), "lseek");
    kit::Pipe p = kit::make_pipe();
    off_t off = 100;
    ASSERT_EQ(::sendfile(p.write.get(), f.fd.get(), &off, 50), 50);
    EXPECT_EQ(off, 150) << "the variable advances";
    EXPECT_EQ(::lseek(f.fd.get(), 0, SEEK_CUR), 10) << "the file offset does not";
}

TEST(SendfileRules, ANullOffsetReadsFromAndAdvancesTheFileOffset) {
    TempFile f = file_of(kPage, 'a');
    kit::check(::pwrite(f.fd.get(), "XY", 2, 10), "pwrite");
    kit::check(::lseek(f.fd.get(), 10, SEEK_SET), "lseek");
    kit::Pipe p = kit::make_pipe();
    ASSERT_EQ(::sendfile(p.write.get(), f.fd.get(), nullptr, 50), 50);
    EXPECT_EQ(::lseek(f.fd.get(), 0, SEEK_CUR), 60);
    EXPECT_EQ(read_n(p.read.get(), 2), "XY");
}

// A sparse in-memory file of 3 GiB reads as zeros without allocating pages,
// and /dev/null accepts spliced data without copying it: the cap is cheap to see.
// The cap is INT_MAX rounded down to a page: 0x7ffff000 with 4 KiB pages.
TEST(SendfileRules, OneCallMovesAtMost0x7ffff000Bytes) {
    const auto cap = off_t(INT_MAX & ~(kPage - 1));
    if (kPage == 4096) {
        EXPECT_EQ(cap, 0x7ffff000);
    }
    kit::Fd mem(kit::check(::memfd_create("ipckit-sparse", MFD_CLOEXEC), "memfd_create"));
    constexpr off_t k3GiB = off_t(3) << 30;
    kit::check(::ftruncate(mem.get(), k3GiB), "ftruncate");
    kit::Fd null(kit::check(::open("/dev/null", O_WRONLY | O_CLOEXEC), "open"));
    off_t off = 0;
    ssize_t n = ::sendfile(null.get(), mem.get(), &off, std::size_t(k3GiB));
    ASSERT_NE(n, -1) << std::strerror(errno);
    EXPECT_EQ(n, cap);
    EXPECT_EQ(off, cap);
    // The rest needs a second call.
    EXPECT_EQ(::sendfile(null.get(), mem.get(), &off, std::size_t(k3GiB - off)),
              k3GiB - cap);
}

TEST(SendfileRules, AnAppendModeOutputFailsWithEinval) {
    TempFile in = file_of(kPage, 'a'), out("zc-out");
    kit::Fd app(kit::check(::open(out.name.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC), "open"));
    off_t off = 0;
    errno = 0;
    EXPECT_EQ(::sendfile(app.get(), in.fd.get(), &off, 10), -1);
    EXPECT_EQ(errno, EINVAL);
}

// ---- tee(2) -------------------------------------------------------------------

TEST(TeeRules, DuplicatesPipeDataWithoutConsumingIt) {
    kit::Pipe a = kit::make_pipe(), b = kit::make_pipe();
    kit::write_all(a.write.get(), std::as_bytes(std::span("tee me", 6)));
    ASSERT_EQ(::tee(a.read.get(), b.write.get(), 6, 0), 6);
    ASSERT_EQ(::tee(a.read.get(), b.write.get(), 6, 0), 6) << "still there: tee again";
    EXPECT_EQ(read_n(b.read.get(), 12), "tee metee me");
    EXPECT_EQ(read_n(a.read.get(), 6), "tee me") << "the source keeps its data";
}

TEST(TeeRules, NeedsAPipeOnBothSidesOrFailsWithEinval) {
    kit::Pipe a = kit::make_pipe();
    TempFile f("zc-out");
    kit::write_all(a.write.get(), std::as_bytes(std::span("x", 1)));
    errno = 0;
    EXPECT_EQ(::tee(a.read.get(), f.fd.get(), 1, 0), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(TeeRules, IntoTheSamePipeFailsWithEinval) {
    kit::Pipe a = kit::make_pipe();
    kit::write_all(a.write.get(), std::as_bytes(std::span("x", 1)));
    errno = 0;
    EXPECT_EQ(::tee(a.read.get(), a.write.get(), 1, 0), -1);
    EXPECT_EQ(errno, EINVAL);
}

// ---- copy or reference: change the source after the call, then read ---------
// A copy keeps the old bytes; a page reference shows the new ones.

TEST(CopyOrReference, WriteCopiesTheUserBuffer) {
    kit::Pipe p = kit::make_pipe();
    std::string buf(kPage, 'O');
    kit::write_all(p.write.get(), std::as_bytes(std::span(buf)));
    buf.replace(0, 4, "NNNN");
    EXPECT_EQ(read_n(p.read.get(), 4), "OOOO");
}

TEST(CopyOrReference, VmspliceReferencesTheUserPages) {
    kit::Pipe p = kit::make_pipe();
    auto* page = static_cast<char*>(kit::check(
        ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        MAP_FAILED, "mmap"));
    std::memset(page, 'O', kPage);
    iovec iov{page, kPage};
    ASSERT_EQ(::vmsplice(p.write.get(), &iov, 1, 0), ssize_t(kPage));
    std::memcpy(page, "NNNN", 4);
    EXPECT_EQ(read_n(p.read.get(), 4), "NNNN");
    ::munmap(page, kPage);
}

TEST(CopyOrReference, SpliceFromAFileReferencesThePageCache) {
    TempFile f = file_of(kPage, 'O');
    kit::Pipe p = kit::make_pipe();
    loff_t off = 0;
    ASSERT_EQ(::splice(f.fd.get(), &off, p.write.get(), nullptr, kPage, 0), ssize_t(kPage));
    kit::check(::pwrite(f.fd.get(), "NNNN", 4, 0), "pwrite");
    EXPECT_EQ(read_n(p.read.get(), 4), "NNNN");
}

TEST(CopyOrReference, SendfileToAUnixStreamSocketReferencesThePageCache) {
    TempFile f = file_of(kPage, 'O');
    SocketPair s = socket_pair();
    off_t off = 0;
    ASSERT_EQ(::sendfile(s.a.get(), f.fd.get(), &off, kPage), ssize_t(kPage));
    kit::check(::pwrite(f.fd.get(), "NNNN", 4, 0), "pwrite");
    EXPECT_EQ(read_n(s.b.get(), 4), "NNNN");
}

TEST(CopyOrReference, SendfileToAPipeReferencesThePageCache) {
    TempFile f = file_of(kPage, 'O');
    kit::Pipe p = kit::make_pipe();
    off_t off = 0;
    ASSERT_EQ(::sendfile(p.write.get(), f.fd.get(), &off, kPage), ssize_t(kPage));
    kit::check(::pwrite(f.fd.get(), "NNNN", 4, 0), "pwrite");
    EXPECT_EQ(read_n(p.read.get(), 4), "NNNN");
}

// The pipe is empty once its pages are spliced into a stream socket, but the
// socket buffer now holds the same references: the page is still not free.
TEST(CopyOrReference, SpliceIntoAUnixStreamSocketPassesTheReferenceOn) {
    kit::Pipe p = kit::make_pipe();
    SocketPair s = socket_pair();
    auto* page = static_cast<char*>(kit::check(
        ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        MAP_FAILED, "mmap"));
    std::memset(page, 'O', kPage);
    iovec iov{page, kPage};
    ASSERT_EQ(::vmsplice(p.write.get(), &iov, 1, 0), ssize_t(kPage));
    ASSERT_EQ(::splice(p.read.get(), nullptr, s.a.get(), nullptr, kPage, 0), ssize_t(kPage));
    int left = -1;
    kit::check(::ioctl(p.read.get(), FIONREAD, &left), "ioctl");
    EXPECT_EQ(left, 0) << "the pipe is empty";
    std::memcpy(page, "NNNN", 4);
    EXPECT_EQ(read_n(s.b.get(), 4), "NNNN") << "yet the socket still points at the page";
    ::munmap(page, kPage);
}

TEST(CopyOrReference, TeeDuplicatesReferencesNotBytes) {
    TempFile f = file_of(kPage, 'O');
    kit::Pipe a = kit::make_pipe(), b = kit::make_pipe();
    loff_t off = 0;
    ASSERT_EQ(::splice(f.fd.get(), &off, a.write.get(), nullptr, kPage, 0), ssize_t(kPage));
    ASSERT_EQ(::tee(a.read.get(), b.write.get(), kPage, 0), ssize_t(kPage));
    kit::check(::pwrite(f.fd.get(), "NNNN", 4, 0), "pwrite");
    EXPECT_EQ(read_n(b.read.get(), 4), "NNNN") << "pipe b points at the page-cache page";
    EXPECT_EQ(read_n(a.read.get(), 4), "NNNN") << "and so does pipe a";
}

TEST(CopyOrReference, MmapThenWriteToASocketCopies) {
    TempFile f = file_of(kPage, 'O');
    SocketPair s = socket_pair();
    auto* map = static_cast<char*>(kit::check(
        ::mmap(nullptr, kPage, PROT_READ, MAP_SHARED, f.fd.get(), 0), MAP_FAILED, "mmap"));
    kit::write_all(s.a.get(), std::as_bytes(std::span(map, kPage)));
    kit::check(::pwrite(f.fd.get(), "NNNN", 4, 0), "pwrite");
    EXPECT_EQ(read_n(s.b.get(), 4), "OOOO");
    ::munmap(map, kPage);
}

TEST(CopyOrReference, SpliceIntoADatagramSocketCopies) {
    TempFile f = file_of(kPage, 'O');
    SocketPair s = socket_pair(SOCK_DGRAM);
    kit::Pipe p = kit::make_pipe();
    loff_t off = 0;
    ASSERT_EQ(::splice(f.fd.get(), &off, p.write.get(), nullptr, kPage, 0), ssize_t(kPage));
    ASSERT_EQ(::splice(p.read.get(), nullptr, s.a.get(), nullptr, kPage, 0), ssize_t(kPage));
    kit::check(::pwrite(f.fd.get(), "NNNN", 4, 0), "pwrite");
    EXPECT_EQ(read_n(s.b.get(), 4), "OOOO");
}

// ---- every path delivers the same bytes to another process -------------------

TEST(PathIntegrity, EveryPathDeliversTheSameChecksumToAnotherProcess) {
    constexpr std::size_t kSize = 4 << 20;
    TempFile src("zc-src");
    const std::uint64_t want = zc::fill(src.fd.get(), kSize);
    for (bool to_pipe : {false, true}) {
        for (const zc::Path& path : zc::kPaths) {
            SCOPED_TRACE(std::string(path.name) + (to_pipe ? " to a pipe" : " to a socket"));
            kit::Fd rx, tx;
            if (to_pipe) {
                kit::Pipe p = kit::make_pipe();
                rx = std::move(p.read), tx = std::move(p.write);
            } else {
                SocketPair s = socket_pair();
                rx = std::move(s.a), tx = std::move(s.b);
            }
            kit::Pipe report = kit::make_pipe();
            kit::Child receiver = kit::spawn([&] {
                tx.reset();
                alarm(5);
                zc::Received r = zc::drain(rx.get());
                kit::write_all(report.write.get(), std::as_bytes(std::span(&r, 1)));
            });
            rx.reset();
            report.write.reset();
            long calls = 0;
            path.send(src.fd.get(), tx.get(), to_pipe, kSize, calls);
            tx.reset();
            zc::Received got;
            ASSERT_EQ(kit::read_full(report.read.get(), std::as_writable_bytes(std::span(&got, 1))),
                      sizeof got);
            EXPECT_TRUE(receiver.wait().ok());
            EXPECT_EQ(got.bytes, kSize);
            EXPECT_EQ(got.sum, want);
        }
    }
}

TEST(PathIntegrity, CopyFileRangeCopiesFileToFileAndRefusesAPipe) {
    constexpr std::size_t kSize = 1 << 20;
    TempFile src("zc-src"), dst("zc-dst");
    const std::uint64_t want = zc::fill(src.fd.get(), kSize);
    loff_t in = 0, out = 0;
    while (in < loff_t(kSize))
        kit::check(::copy_file_range(src.fd.get(), &in, dst.fd.get(), &out, kSize, 0),
                   "copy_file_range");
    kit::check(::lseek(dst.fd.get(), 0, SEEK_SET), "lseek");
    zc::Received got = zc::drain(dst.fd.get());
    EXPECT_EQ(got.bytes, kSize);
    EXPECT_EQ(got.sum, want);
    kit::check(::pwrite(src.fd.get(), "NNNN", 4, 0), "pwrite");  // the copy is independent
    EXPECT_EQ(::lseek(dst.fd.get(), 0, SEEK_SET), 0);
    EXPECT_EQ(zc::drain(dst.fd.get()).sum, want);
    kit::Pipe p = kit::make_pipe();
    kit::write_all(p.write.get(), std::as_bytes(std::span("x", 1)));
    errno = 0;
    EXPECT_EQ(::copy_file_range(p.read.get(), nullptr, dst.fd.get(), nullptr, 1, 0), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(PathIntegrity, TheCompareProgramReportsOkForAllElevenRows) {
    auto r = kit::test::run_program({KIT_BIN_DIR "/zerocopy_compare", "1"}, {}, std::chrono::seconds(20));
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.err;
    int ok = 0;
    for (std::size_t pos = 0; (pos = r.out.find(" ok\n", pos)) != std::string::npos; ++pos) ++ok;
    EXPECT_EQ(ok, 11) << r.out;
    EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos) << r.out;
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
    if (zc::dirty_kb(map) != 0) {
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
    for (int attempt = 0; attempt < 3 && zc::dirty_kb(map) != len_kb; ++attempt)
        std::memset(map, 'a' + attempt, len);
    ASSERT_EQ(zc::dirty_kb(map), len_kb) << "four dirty pages, not yet on storage";
    kit::check(::msync(map, len, MS_SYNC), "msync");
    EXPECT_EQ(zc::dirty_kb(map), 0) << "written back and clean";
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

TEST(IoUring, ASpliceSubmittedThroughTheRingDeliversTheFileToAnotherProcess) {
    auto r = kit::test::run_program({KIT_BIN_DIR "/uring_splice"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.out << r.err;
    if (r.out.find("io_uring unavailable here") != std::string::npos) GTEST_SKIP() << r.out;
    EXPECT_NE(r.out.find("completion: res=47 bytes"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("child read 47 bytes: \"spliced by the kernel, submitted through a ring\""),
              std::string::npos)
        << r.out;
}
