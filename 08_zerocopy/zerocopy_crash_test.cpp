// Chapter 08 · the crash lab (进程崩溃) of the zero-copy paths: one side is
// killed with SIGKILL at the step that matters (it says "at step" through a
// pipe, then blocks; or it is provably blocked in the call); each test asserts
// what the survivor sees and what is left, then removes it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "kit/child.hpp"
#include "kit/names.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "zerocopy_test.hpp"

using namespace ch08::test;

namespace {

// The child's side of the handshake: "I am at the step", then block until killed.
[[noreturn]] void at_step_then_block(const kit::Pipe& ready) {
    kit::check(::write(ready.write.get(), "!", 1), "write");
    for (;;) ::pause();  // only a signal ends it: the SIGKILL
}

// The parent's side: true once the child reports it is at the step.
bool heard(const kit::Pipe& ready) {
    char c = 0;
    return kit::wait_readable(ready.read.get()) && ::read(ready.read.get(), &c, 1) == 1;
}

// Kills a child that is at its step and reaps it.
kit::ExitStatus kill_at_step(kit::Child& child, const kit::Pipe& ready) {
    if (heard(ready)) kit::check(::kill(child.pid(), SIGKILL), "kill");
    return child.wait();
}

// One page of anonymous, page-aligned memory filled with `c`.
char* anon_page(char c) {
    auto* page = static_cast<char*>(kit::check(
        ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        MAP_FAILED, "mmap"));
    std::memset(page, c, kPage);
    return page;
}

}  // namespace

// ---- vmsplice: the pipe holds references to a dead process's pages ----------

// Without SPLICE_F_GIFT the pipe points at the writer's page, so the reader
// gets the page as the writer left it: the stores after vmsplice included.
TEST(VmspliceCrash, TheReaderStillReadsThePagesOfAWriterKilledAfterVmsplice) {
    kit::Pipe data = kit::make_pipe(), ready = kit::make_pipe();
    kit::Child writer = kit::spawn([&] {
        char* page = anon_page('O');
        iovec iov{page, kPage};
        if (::vmsplice(data.write.get(), &iov, 1, 0) != ssize_t(kPage)) return 1;
        std::memcpy(page, "NNNN", 4);  // after vmsplice, before the crash
        at_step_then_block(ready);
    });
    data.write.reset();
    EXPECT_TRUE(kill_at_step(writer, ready).killed_by(SIGKILL));
    std::string got = read_n(data.read.get(), kPage + 1);
    ASSERT_EQ(got.size(), kPage) << "one page, then EOF: the writer is gone";
    EXPECT_EQ(got.substr(0, 8), "NNNNOOOO") << "the page outlived its process";
}

// With SPLICE_F_GIFT the writer promises never to touch the pages again; the
// reader gets exactly what was gifted, the process's death changes nothing.
TEST(VmspliceCrash, GiftedPagesOfAKilledWriterReachTheReaderUnchanged) {
    kit::Pipe data = kit::make_pipe(), ready = kit::make_pipe();
    kit::Child writer = kit::spawn([&] {
        char* page = anon_page('G');
        iovec iov{page, kPage};  // a whole, page-aligned page: what a gift needs
        if (::vmsplice(data.write.get(), &iov, 1, SPLICE_F_GIFT) != ssize_t(kPage)) return 1;
        at_step_then_block(ready);
    });
    data.write.reset();
    EXPECT_TRUE(kill_at_step(writer, ready).killed_by(SIGKILL));
    EXPECT_EQ(read_n(data.read.get(), kPage + 1), std::string(kPage, 'G'));
}

// ---- sendfile / splice: the receiver dies mid-transfer ------------------------

namespace {

// A sender child blocked in `nr` (it fills the destination faster than anyone
// reads) while the only reader is killed. It exits 0 if a call then failed
// with EPIPE; with SIGPIPE at its default it dies of SIGPIPE instead.
template <class Send>
kit::ExitStatus sender_when_reader_dies(kit::Fd& tx, kit::Fd& rx, long nr, bool ignore_sigpipe,
                                        Send send) {
    kit::Pipe ready = kit::make_pipe();
    kit::Child reader = kit::spawn([&] {
        tx.reset();
        at_step_then_block(ready);  // holds rx open, reads nothing
    });
    rx.reset();
    kit::Child sender = kit::spawn([&] {
        ::signal(SIGPIPE, ignore_sigpipe ? SIG_IGN : SIG_DFL);
        for (;;)
            if (send(tx.get()) == -1) return errno == EPIPE ? 0 : 2;
    });
    tx.reset();
    if (!kit::wait_in_syscall(sender.pid(), nr)) ADD_FAILURE() << "the sender never blocked";
    EXPECT_TRUE(kill_at_step(reader, ready).killed_by(SIGKILL));
    return sender.wait();
}

}  // namespace

TEST(SendfileCrash, ABlockedSenderGetsEpipeWhenTheSocketReceiverIsKilled) {
    TempFile f = file_of(1 << 20, 's');
    for (bool ignore : {true, false}) {
        SocketPair s = socket_pair();
        off_t off = 0;
        auto st = sender_when_reader_dies(s.a, s.b, SYS_sendfile, ignore, [&](int tx) {
            if (off >= (1 << 20)) off = 0;
            return ::sendfile(tx, f.fd.get(), &off, 1 << 20);
        });
        if (ignore)
            EXPECT_TRUE(st.ok()) << "sendfile must fail with EPIPE: " << st.describe();
        else
            EXPECT_TRUE(st.killed_by(SIGPIPE)) << st.describe();
    }
}

TEST(SpliceCrash, ABlockedSpliceIntoAPipeGetsEpipeWhenItsReaderIsKilled) {
    TempFile f = file_of(1 << 20, 'p');
    for (bool ignore : {true, false}) {
        kit::Pipe p = kit::make_pipe();
        loff_t off = 0;
        auto st = sender_when_reader_dies(p.write, p.read, SYS_splice, ignore, [&](int tx) {
            if (off >= (1 << 20)) off = 0;
            return ::splice(f.fd.get(), &off, tx, nullptr, 1 << 20, 0);
        });
        if (ignore)
            EXPECT_TRUE(st.ok()) << "splice must fail with EPIPE: " << st.describe();
        else
            EXPECT_TRUE(st.killed_by(SIGPIPE)) << st.describe();
    }
}

// ---- a file mapping whose writer (or truncater) dies -------------------------

// A MAP_SHARED store lands in the page cache page itself: when the writer is
// killed right after storing, without msync, every other process reads it.
TEST(MmapCrash, StoresOfAWriterKilledWithoutMsyncAreInTheFile) {
    TempFile f = file_of(kPage, '.');
    kit::Pipe ready = kit::make_pipe();
    kit::Child writer = kit::spawn([&] {
        auto* map = static_cast<char*>(
            kit::check(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd.get(), 0),
                       MAP_FAILED, "mmap"));
        std::memcpy(map, "stored before SIGKILL", 21);  // no msync, no munmap
        at_step_then_block(ready);
    });
    EXPECT_TRUE(kill_at_step(writer, ready).killed_by(SIGKILL));
    struct stat st {};
    ASSERT_EQ(::stat(f.name.c_str(), &st), 0) << "the file is left behind (the test removes it)";
    kit::Fd fd(kit::check(::open(f.name.c_str(), O_RDONLY | O_CLOEXEC), "open"));
    EXPECT_EQ(read_n(fd.get(), 21), "stored before SIGKILL");
}

// A process shrinks a mapped file (to rewrite it) and is killed before it grows
// it again: the survivor's mapping now has no file behind it, touching it
// raises SIGBUS. Growing the file back makes the pages readable: zeros.
TEST(MmapCrash, ASurvivorTouchingAFileTruncatedByAKilledProcessGetsSigbus) {
    TempFile f = file_of(2 * kPage, 'x');
    auto* map = static_cast<volatile char*>(kit::check(
        ::mmap(nullptr, 2 * kPage, PROT_READ, MAP_SHARED, f.fd.get(), 0), MAP_FAILED, "mmap"));
    kit::Pipe ready = kit::make_pipe();
    kit::Child truncater = kit::spawn([&] {
        kit::check(::ftruncate(f.fd.get(), 0), "ftruncate");  // step 1 of a rewrite
        at_step_then_block(ready);
    });
    EXPECT_TRUE(kill_at_step(truncater, ready).killed_by(SIGKILL));
    EXPECT_EQ(::lseek(f.fd.get(), 0, SEEK_END), 0) << "left behind: an empty file";
    kit::Child survivor = kit::spawn([&] {
        ::signal(SIGBUS, SIG_DFL);  // a sanitizer's handler would turn it into an exit
        return map[0] == 'x' ? 3 : 4;
    });
    kit::ExitStatus st = survivor.wait();
    EXPECT_TRUE(st.killed_by(SIGBUS)) << st.describe();
    kit::check(::ftruncate(f.fd.get(), off_t(2 * kPage)), "ftruncate");  // recovery
    EXPECT_EQ(map[0], 0) << "the file is back, its old bytes are not";
    ::munmap(const_cast<char*>(map), 2 * kPage);
}

// ---- the programs: no name to leave behind ----------------------------------

// send_by_reference removes its file's name right after opening it. Its
// stdout is a pipe we filled beforehand, so the program blocks in its first
// write() — its file made, open and being sent — and is killed there with
// SIGKILL: no "ipckit-<pid>-" name is left in the temp directory.
TEST(ProgramCrash, ASendingProgramKilledWithSigkillLeavesNoFile) {
    kit::Pipe out = kit::make_pipe(O_CLOEXEC | O_NONBLOCK);
    const std::string filler(4096, '.');
    while (::write(out.write.get(), filler.data(), filler.size()) > 0) {
    }
    ASSERT_EQ(errno, EAGAIN) << "the pipe is full";
    const std::string path = kit::test::program_path("send_by_reference");
    kit::Child prog = kit::spawn([&] {
        kit::check(::dup2(out.write.get(), STDOUT_FILENO), "dup2");
        kit::check(::fcntl(STDOUT_FILENO, F_SETFL, 0), "fcntl");  // a blocking write
        ::execl(path.c_str(), path.c_str(), "16", static_cast<char*>(nullptr));
        return 127;
    });
    const pid_t pid = prog.pid();
    ASSERT_TRUE(kit::wait_in_syscall(pid, SYS_write, std::chrono::seconds(20)))
        << "the program never blocked writing its first row";
    kit::check(::kill(pid, SIGKILL), "kill");
    EXPECT_TRUE(prog.wait().killed_by(SIGKILL));
    const std::string prefix = std::string(kit::kNamePrefix) + std::to_string(pid) + "-";
    for (const auto& e : std::filesystem::directory_iterator(kit::temp_dir()))
        EXPECT_NE(e.path().filename().string().rfind(prefix, 0), 0u) << "left behind: " << e.path();
}
