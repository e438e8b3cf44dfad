// bench_facts_test.cpp — the kernel facts behind the lesson's myths about speed: what a file
// mapping, a FIFO and the shared-memory ring really are. No test here times anything.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "bench.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/sanitizer.hpp"
#include "kit/seccomp.hpp"

namespace bench {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

// "Memory-mapped files are faster than shared memory": a store into a MAP_SHARED file mapping
// is a store into the file's page-cache page, which read() returns at once, with no msync and
// no disk in between, exactly as for a shm object's page.
TEST(KernelFacts, AStoreIntoASharedFileMappingIsWhatReadReturnsWithoutMsync) {
    auto path = kit::unlink_guard(kit::unique_temp_path("facts.map"));
    kit::Fd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd) << std::strerror(errno);
    ASSERT_EQ(::ftruncate(fd.get(), 4096), 0) << std::strerror(errno);
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
    std::memcpy(static_cast<char*>(p) + 100, "in the page cache", 17);
    char back[17] = {};
    EXPECT_EQ(::pread(fd.get(), back, sizeof back, 100), 17);
    EXPECT_EQ(std::string(back, 17), "in the page cache");
    EXPECT_EQ(::munmap(p, 4096), 0);
}

// "FIFOs are faster than pipes": once opened, a FIFO is a pipe — same file type, same buffer.
TEST(KernelFacts, AnOpenedFifoIsAPipeWithThePipesBuffer) {
    auto path = kit::unlink_guard(kit::unique_temp_path("facts.fifo"));
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << std::strerror(errno);
    kit::Fd fifo(::open(path.c_str(), O_RDWR | O_CLOEXEC));  // O_RDWR: both ends, no wait (Linux)
    ASSERT_TRUE(fifo) << std::strerror(errno);
    kit::Pipe pipe = kit::make_pipe();
    struct stat fs {
    }, ps{};
    ASSERT_EQ(::fstat(fifo.get(), &fs), 0);
    ASSERT_EQ(::fstat(pipe.read.get(), &ps), 0);
    EXPECT_TRUE(S_ISFIFO(fs.st_mode));
    EXPECT_TRUE(S_ISFIFO(ps.st_mode));
    EXPECT_EQ(::fcntl(fifo.get(), F_GETPIPE_SZ), ::fcntl(pipe.write.get(), F_GETPIPE_SZ));
}

// "Shared memory needs no system call": a ring side with nothing to read must sleep, and only
// the kernel can put it to sleep and wake it. Under a filter that allows no system call, the
// receiver of an empty ring is stopped at its first one, and that one is futex().
TEST(KernelFacts, AShmRingReceiverWithNothingToReadSleepsInFutex) {
    if (kAddressSanitizer || kit::kThreadSanitizer)
        GTEST_SKIP() << "a sanitizer's own code makes system calls between the ring and the kernel";
    auto link = find_mechanism("shm-ring")->make(100);
    kit::Child b = kit::spawn([&] {
        auto ep = link->open(Role::b, ::getppid());
        struct sigaction sa {};
        sa.sa_sigaction = [](int, siginfo_t* info, void*) {
            // exit_group itself: _exit may run hooks (a sanitizer's) that make other calls
            ::syscall(SYS_exit_group, info->si_syscall == SYS_futex ? 42 : 43);
        };
        sa.sa_flags = SA_SIGINFO;
        ::sigaction(SIGSYS, &sa, nullptr);
        if (kit::forbid_system_calls(kit::OnSyscall::trap) != 0) return 3;
        std::vector<std::byte> in(100);  // allocated before: no brk/mmap below
        ep->recv(in);                    // nobody sends
        return 0;
    });
    const kit::ExitStatus st = b.wait();
    if (st.exited_with(3)) GTEST_SKIP() << "this machine refuses a seccomp filter";
    EXPECT_TRUE(st.exited_with(42))
        << st.describe() << " (42: stopped in futex; 43: another system call)";
}

// "Shared memory copies nothing": the ring copies the message in at send() and out at recv().
// The sender may scribble over its buffer at once; the receiver still gets what was sent.
TEST(KernelFacts, TheShmRingCopiesAMessageInAtSendAndOutAtRecv) {
    auto link = find_mechanism("shm-ring")->make(100);
    auto a = link->open(Role::a, ::getpid()), b = link->open(Role::b, ::getpid());
    std::vector<std::byte> out(100, std::byte{7}), in(100);
    a->send(out);
    std::fill(out.begin(), out.end(), std::byte{0});  // the sender's buffer, reused
    a.reset();  // the sender ends: it publishes its tail (the ring publishes in batches)
    b->recv(in);
    EXPECT_EQ(in, std::vector<std::byte>(100, std::byte{7}));
}

// The pipe + signal wake-up row (ipc-bench's way) is a ping-pong only: a standard signal such as
// SIGUSR1 does not queue. Two sent while blocked are one pending signal, taken by one sigwait.
TEST(KernelFacts, TwoPendingSigusr1AreOneSoASignalWakeUpCannotCountMessages) {
    kit::Child child = kit::spawn([] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return 2;
        ::kill(::getpid(), SIGUSR1), ::kill(::getpid(), SIGUSR1);
        int sig = 0;
        if (::sigwait(&set, &sig) != 0 || sig != SIGUSR1) return 3;
        const timespec now{0, 0};
        if (::sigtimedwait(&set, nullptr, &now) != -1 || errno != EAGAIN)
            return 1;  // no second SIGUSR1
        return 0;
    });
    const kit::ExitStatus st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe()
                         << " (exit 1: a second SIGUSR1 was pending; sigtimedwait expected EAGAIN)";
}

}  // namespace
}  // namespace bench
