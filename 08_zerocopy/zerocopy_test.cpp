// Chapter 08 · Zero-copy: the rules of splice, sendfile and tee, and which
// calls copy and which pass page references, on this kernel. (The mmap
// pitfalls, the programs' paths and io_uring: zerocopy_mmap_test.cpp; what a
// killed process leaves: zerocopy_crash_test.cpp; process_vm_readv:
// zerocopy_cma_test.cpp.)
#include "zerocopy_test.hpp"

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
#include <string>

#include "kit/child.hpp"
#include "kit/names.hpp"
#include "kit_test/program.hpp"

using namespace ch08::test;

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

// Since Linux 5.12 (commit b964bf53e540, "teach sendfile(2) to handle
// send-to-pipe directly") sendfile into a pipe is a plain file-to-pipe splice,
// which takes any input with a splice_read, sockets included. Before, every
// sendfile went through do_splice_direct(), which refuses an unseekable input.
TEST(SendfileRules, ASocketAsInputToAPipeIsAcceptedByThisKernel) {
    if (!kernel_at_least(5, 12))
        GTEST_SKIP() << "before Linux 5.12 sendfile refused a socket as input toward a pipe too";
    SocketPair s = socket_pair();
    kit::Pipe p = kit::make_pipe();
    kit::write_all(s.b.get(), std::as_bytes(std::span("abc", 3)));
    errno = 0;
    ASSERT_EQ(::sendfile(p.write.get(), s.a.get(), nullptr, 3), 3)
        << "a socket as input toward a pipe: " << std::strerror(errno) << " (EINVAL: refused)";
    EXPECT_EQ(read_n(p.read.get(), 3), "abc");
}

// man 2 sendfile: "Before Linux 2.6.33, out_fd must refer to a socket. Since
// Linux 2.6.33 it can be any file. If it is a regular file, then sendfile()
// changes the file offset appropriately."
TEST(SendfileRules, TheOutputMayBeAnyFileARegularFileADeviceAPipeOrASocket) {
    TempFile in = file_of(kPage, 'a'), out("zc-out");
    off_t off = 0;
    ASSERT_EQ(::sendfile(out.fd.get(), in.fd.get(), &off, 100), 100) << "a regular file";
    EXPECT_EQ(::lseek(out.fd.get(), 0, SEEK_CUR), 100) << "its file offset advanced";
    EXPECT_EQ(::lseek(out.fd.get(), 0, SEEK_END), 100) << "and it holds the bytes";
    kit::Fd null(kit::check(::open("/dev/null", O_WRONLY | O_CLOEXEC), "open"));
    off = 0;
    EXPECT_EQ(::sendfile(null.get(), in.fd.get(), &off, 100), 100) << "a character device";
    kit::Pipe p = kit::make_pipe();
    off = 0;
    EXPECT_EQ(::sendfile(p.write.get(), in.fd.get(), &off, 100), 100) << "a pipe";
    EXPECT_EQ(read_n(p.read.get(), 100), std::string(100, 'a'));
    SocketPair s = socket_pair();
    off = 0;
    EXPECT_EQ(::sendfile(s.a.get(), in.fd.get(), &off, 100), 100) << "a socket";
    EXPECT_EQ(read_n(s.b.get(), 100), std::string(100, 'a'));
}

// The input must be a file the kernel reads pages from: a regular file, or a
// memfd (an in-memory file one can mmap).
TEST(SendfileRules, TheInputMayBeARegularFileOrAMemfd) {
    TempFile f = file_of(kPage, 'f'), out("zc-out");
    kit::Fd mem(kit::check(::memfd_create("ipckit-input", MFD_CLOEXEC), "memfd_create"));
    kit::write_all(mem.get(), std::as_bytes(std::span("memfd", 5)));
    off_t off = 0;
    EXPECT_EQ(::sendfile(out.fd.get(), f.fd.get(), &off, 10), 10) << "a regular file";
    off = 0;
    EXPECT_EQ(::sendfile(out.fd.get(), mem.get(), &off, 5), 5) << "a memfd";
    char buf[15] = {};
    ASSERT_EQ(::pread(out.fd.get(), buf, sizeof buf, 0), 15);
    EXPECT_EQ(std::string_view(buf, 15), "ffffffffffmemfd");
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
    EXPECT_EQ(::sendfile(null.get(), mem.get(), &off, std::size_t(k3GiB - off)), k3GiB - cap);
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
