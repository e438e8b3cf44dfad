// Tests of the kit's own helpers (kit.common.*): each helper does what its
// header says, including its error paths.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <csignal>
#include <fstream>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/sanitizer.hpp"
#include "kit/seccomp.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"

using namespace std::chrono_literals;

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string tool(const char* name) { return std::string(KIT_TOOLS_DIR) + "/" + name; }

}  // namespace

TEST(Check, ReturnsTheResultOfASuccessfulCall) {
    EXPECT_EQ(kit::check(42, "anything"), 42);
    EXPECT_EQ(kit::check(ssize_t{0}, "read"), 0);
}

TEST(Check, FailedCallThrowsWithCallNameAndErrno) {
    try {
        (void)kit::check(::open("/nonexistent/ipckit", O_RDONLY), "open");
        FAIL() << "check did not throw";
    } catch (const kit::SysError& e) {
        EXPECT_EQ(e.err(), ENOENT);
        EXPECT_EQ(e.call(), "open");
        EXPECT_EQ(e.message(), "open: No such file or directory");
    }
}

TEST(Check, PointerFormComparesWithTheFailureValue) {
    int x = 0;
    EXPECT_EQ(kit::check(&x, static_cast<int*>(nullptr), "p"), &x);
    errno = ENOMEM;
    EXPECT_THROW((void)kit::check(static_cast<int*>(nullptr), static_cast<int*>(nullptr), "p"),
                 kit::SysError);
}

TEST(Check, ErrorNumberFormThrowsTheReturnedNumber) {
    EXPECT_NO_THROW(kit::check_err(0, "pthread_mutex_lock"));
    try {
        kit::check_err(EOWNERDEAD, "pthread_mutex_lock");
        FAIL() << "check_err did not throw";
    } catch (const kit::SysError& e) {
        EXPECT_EQ(e.err(), EOWNERDEAD);
        EXPECT_EQ(e.message(), "pthread_mutex_lock: Owner died");
    }
}

TEST(Check, ParseLongAcceptsOnlyNumbersInRange) {
    EXPECT_EQ(kit::parse_long("17", 1, 100), 17);
    EXPECT_THROW((void)kit::parse_long("0", 1, 100), kit::UsageError);
    EXPECT_THROW((void)kit::parse_long("12x", 1, 100), kit::UsageError);
    EXPECT_THROW((void)kit::parse_long("", 1, 100), kit::UsageError);
}

TEST(Run, FailedCallPrintsProgramCallAndStrerrorAndExits1) {
    auto r = kit::test::run_program({tool("leak_guard"), "check", "/nonexistent/ipckit"});
    EXPECT_TRUE(r.status.exited_with(1)) << r.status.describe();
    EXPECT_EQ(r.err,
              "leak_guard: open /nonexistent/ipckit (run the snapshot first): No such file or "
              "directory\n");
}

TEST(Run, WrongArgumentsPrintUsageAndExit2) {
    auto r = kit::test::run_program({tool("leak_guard")});
    EXPECT_TRUE(r.status.exited_with(2)) << r.status.describe();
    EXPECT_EQ(r.err, "usage: leak_guard snapshot|check FILE\n");
}

TEST(Run, HelpPrintsUsageAndExits0) {
    auto r = kit::test::run_program({tool("leak_guard"), "--help"});
    EXPECT_TRUE(r.status.ok()) << r.status.describe();
    EXPECT_EQ(r.out, "usage: leak_guard snapshot|check FILE\n");
}

TEST(Run, AnOptionTheUsageDoesNotNameIsRefusedWithTheReason) {
    auto r = kit::test::run_program({tool("leak_guard"), "--bogus", "x"});
    EXPECT_TRUE(r.status.exited_with(2)) << r.status.describe();
    EXPECT_EQ(r.err,
              "leak_guard: unexpected argument '--bogus'\nusage: leak_guard snapshot|check FILE\n");
}

TEST(Run, AHugeArgumentIsQuotedCutToAReadableLength) {
    const std::string huge(5000, 'a');
    auto r = kit::test::run_program({tool("leak_guard"), "-" + huge});
    EXPECT_TRUE(r.status.exited_with(2)) << r.status.describe();
    EXPECT_LT(r.err.size(), 200u) << r.err;
    EXPECT_NE(r.err.find("(5001 characters)"), std::string::npos) << r.err;
}

TEST(Usage, QuotedCutsLongArgumentsAndKeepsShortOnes) {
    EXPECT_EQ(kit::quoted("abc"), "'abc'");
    EXPECT_EQ(kit::quoted(std::string(41, 'x')), "'" + std::string(40, 'x') + "…' (41 characters)");
}

TEST(Usage, OptionLikeArgumentsAreRecognised) {
    EXPECT_TRUE(kit::looks_like_option("--bogus"));
    EXPECT_TRUE(kit::looks_like_option("-x"));
    EXPECT_FALSE(kit::looks_like_option("-5"));
    EXPECT_FALSE(kit::looks_like_option("-"));
    EXPECT_FALSE(kit::looks_like_option("--"));
    EXPECT_FALSE(kit::looks_like_option("file"));
}

TEST(Usage, AnOptionCountsAsNamedOnlyAsAWordOfTheUsage) {
    EXPECT_TRUE(kit::usage_mentions("[--hold]", "--hold"));
    EXPECT_TRUE(kit::usage_mentions("--csv FILE | --quick", "--quick"));
    EXPECT_FALSE(kit::usage_mentions("[--holder]", "--hold"));
    EXPECT_FALSE(kit::usage_mentions("PATH", "--hold"));
}

TEST(Usage, NoArgumentsRefusesTheFirstOne) {
    std::vector<std::string_view> none, one = {"extra"};
    EXPECT_NO_THROW(kit::no_arguments(none));
    try {
        kit::no_arguments(one);
        FAIL() << "no UsageError";
    } catch (const kit::UsageError& e) {
        EXPECT_EQ(e.detail, "unexpected argument 'extra'");
    }
}

TEST(Fd, ClosesOnDestruction) {
    int raw;
    {
        kit::Fd fd(kit::check(::open("/dev/null", O_RDONLY), "open"));
        raw = fd.get();
        EXPECT_NE(::fcntl(raw, F_GETFD), -1);
    }
    EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
    EXPECT_EQ(errno, EBADF);
}

TEST(Fd, MoveTransfersOwnershipAndReleaseGivesItUp) {
    kit::Fd a(kit::check(::open("/dev/null", O_RDONLY), "open"));
    const int raw = a.get();
    kit::Fd b = std::move(a);
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), raw);
    int released = b.release();
    EXPECT_FALSE(b);
    EXPECT_NE(::fcntl(released, F_GETFD), -1);  // still open: nobody closed it
    ::close(released);
}

TEST(Fd, WriteAllAndReadFullMoveEveryByteAndStopAtEof) {
    auto p = kit::make_pipe();
    const std::string msg = "hello, pipe";
    kit::write_all(p.write.get(), std::as_bytes(std::span(msg)));
    p.write.reset();
    std::array<std::byte, 64> buf{};
    ASSERT_EQ(kit::read_full(p.read.get(), buf), msg.size());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), msg.size()), msg);
}

TEST(Fd, WriteAllReportsTheFailedCall) {
    auto p = kit::make_pipe();
    EXPECT_THROW(kit::write_all(p.read.get(), std::as_bytes(std::span("x", 1))), kit::SysError);
}

TEST(Names, AreUniqueAndCarryPrefixAndPid) {
    auto a = kit::unique_name("q"), b = kit::unique_name("q");
    EXPECT_NE(a, b);
    EXPECT_EQ(a.rfind("ipckit-" + std::to_string(::getpid()) + "-", 0), 0u) << a;
    EXPECT_EQ(kit::unique_posix_name("shm").front(), '/');
    EXPECT_EQ(kit::unique_temp_path("fifo").rfind(kit::temp_dir() + "/ipckit-", 0), 0u);
}

TEST(Names, DifferInAChildProcess) {
    const auto parent = kit::unique_name("x");
    auto p = kit::make_pipe();
    auto child = kit::spawn([&] {
        auto mine = kit::unique_name("x");
        kit::write_all(p.write.get(), std::as_bytes(std::span(mine)));
        return 0;
    });
    p.write.reset();
    ASSERT_TRUE(child.wait().ok());
    std::array<std::byte, 128> buf{};
    auto n = kit::read_full(p.read.get(), buf);
    EXPECT_NE(std::string(reinterpret_cast<const char*>(buf.data()), n), parent);
}

TEST(NameGuard, RemovesTheNameOnScopeExit) {
    const auto path = kit::unique_temp_path("fifo");
    {
        auto guard = kit::unlink_guard(path);
        ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
        EXPECT_TRUE(exists(path));
    }
    EXPECT_FALSE(exists(path));
}

TEST(NameGuard, DismissKeepsTheNameAndMissingNameIsNoError) {
    const auto path = kit::unique_temp_path("fifo");
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    {
        auto guard = kit::unlink_guard(path);
        guard.dismiss();
    }
    EXPECT_TRUE(exists(path));
    ::unlink(path.c_str());
    { auto again = kit::unlink_guard(path); }  // already gone: nothing happens
    EXPECT_FALSE(exists(path));
}

TEST(NameGuard, RemovesAPosixSharedMemoryName) {
    const auto name = kit::unique_posix_name("shm");
    {
        auto guard = kit::shm_unlink_guard(name);
        kit::Fd fd(
            kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open"));
        EXPECT_TRUE(exists("/dev/shm" + name));
    }
    EXPECT_FALSE(exists("/dev/shm" + name));
}

TEST(SysvGuard, RemovesTheQueueOnScopeExit) {
    int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
    { auto guard = kit::msg_guard(id); }
    msqid_ds ds{};
    EXPECT_EQ(::msgctl(id, IPC_STAT, &ds), -1);
    EXPECT_TRUE(errno == EINVAL || errno == EIDRM) << std::strerror(errno);
}

TEST(SysvGuard, RemovesSemaphoreSetsAndSegmentsToo) {
    int sem = kit::check(::semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), "semget");
    int shm = kit::check(::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600), "shmget");
    {
        auto g1 = kit::sem_guard(sem);
        auto g2 = kit::shm_guard(shm);
    }
    EXPECT_EQ(::semctl(sem, 0, GETVAL), -1);
    EXPECT_TRUE(errno == EINVAL || errno == EIDRM) << std::strerror(errno);
    shmid_ds ds{};
    EXPECT_EQ(::shmctl(shm, IPC_STAT, &ds), -1);
    EXPECT_TRUE(errno == EINVAL || errno == EIDRM) << std::strerror(errno);
}

TEST(Child, ReportsTheExitStatus) {
    EXPECT_TRUE(kit::spawn([] { return 7; }).wait().exited_with(7));
    EXPECT_TRUE(kit::spawn([] {}).wait().ok());
}

TEST(Child, ReportsDeathBySignal) {
    auto st = kit::spawn([] {
                  ::raise(SIGTERM);
                  return 0;
              }).wait();
    EXPECT_TRUE(st.killed_by(SIGTERM)) << st.describe();
    EXPECT_EQ(st.describe(), "killed by signal 15 (Terminated)");
}

TEST(Child, ExceptionInChildExits1) {
    auto st = kit::spawn([]() -> int { throw kit::SysError(EPIPE, "write"); }).wait();
    EXPECT_TRUE(st.exited_with(1)) << st.describe();
}

TEST(Child, OverrunningChildIsKilledAndReported) {
    auto p = kit::make_pipe();
    auto child = kit::spawn([&] {
        char c;
        return static_cast<int>(::read(p.read.get(), &c, 1));  // nobody ever writes
    });
    const pid_t pid = child.pid();
    auto st = child.wait(100ms);
    EXPECT_EQ(st.how, kit::ExitStatus::How::timed_out);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.describe(), "overran its deadline and was killed");
    EXPECT_EQ(::kill(pid, 0), -1);  // reaped: the pid no longer exists
    EXPECT_EQ(errno, ESRCH);
}

TEST(Child, UnwaitedChildIsKilledAndReapedByTheDestructor) {
    auto p = kit::make_pipe();
    pid_t pid;
    {
        auto child = kit::spawn([&] {
            char c;
            return static_cast<int>(::read(p.read.get(), &c, 1));
        });
        pid = child.pid();
    }
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
}

TEST(Wait, TimesOutOnAnEmptyPipeAndWakesOnDataOrEof) {
    auto p = kit::make_pipe();
    EXPECT_FALSE(kit::wait_readable(p.read.get(), 50ms));
    ASSERT_EQ(::write(p.write.get(), "x", 1), 1);
    EXPECT_TRUE(kit::wait_readable(p.read.get(), 50ms));
    char c;
    ASSERT_EQ(::read(p.read.get(), &c, 1), 1);
    p.write.reset();
    EXPECT_TRUE(kit::wait_readable(p.read.get(), 50ms));  // EOF is "readable"
}

TEST(Wait, WritableIsFalseOnAFullPipeAndTrueOnceThereIsRoom) {
    auto p = kit::make_pipe(O_CLOEXEC | O_NONBLOCK);
    std::array<char, 4096> chunk{};
    while (::write(p.write.get(), chunk.data(), chunk.size()) > 0) {
    }
    ASSERT_EQ(errno, EAGAIN);  // full
    EXPECT_FALSE(kit::wait_writable(p.write.get(), 50ms));
    while (::read(p.read.get(), chunk.data(), chunk.size()) > 0) {
    }
    EXPECT_TRUE(kit::wait_writable(p.write.get(), 50ms));
}

TEST(Names, TempPathsFollowTmpdir) {
    const char* old = std::getenv("TMPDIR");
    const std::string saved = old ? old : "";
    ::setenv("TMPDIR", "/var/tmp", 1);
    EXPECT_EQ(kit::unique_temp_path("x").rfind("/var/tmp/ipckit-", 0), 0u);
    ::unsetenv("TMPDIR");
    EXPECT_EQ(kit::temp_dir(), "/tmp");
    if (old) ::setenv("TMPDIR", saved.c_str(), 1);
}

TEST(RunProgram, CapturesOutputStatusAndStdin) {
    auto r = kit::test::run_program({"/bin/sh", "-c", "cat; echo oops >&2; exit 3"}, "in\n");
    EXPECT_EQ(r.out, "in\n");
    EXPECT_EQ(r.err, "oops\n");
    EXPECT_TRUE(r.status.exited_with(3)) << r.status.describe();
}

TEST(RunProgram, KillsAProgramThatOverrunsItsDeadline) {
    auto r = kit::test::run_program({"/bin/sh", "-c", "exec cat"}, {},
                                    100ms);  // stdin stays open? no: closed
    EXPECT_TRUE(r.status.ok()) << r.status.describe();
    auto hung = kit::test::run_program({"/bin/sh", "-c", "exec tail -f /dev/null"}, {}, 100ms);
    EXPECT_EQ(hung.status.how, kit::ExitStatus::How::timed_out);
}

TEST(Proc, ReadsALimitAndReportsAMissingFile) {
    auto v = kit::read_long_file("/proc/sys/fs/pipe-max-size");
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, 4096);
    EXPECT_FALSE(kit::read_long_file("/nonexistent/ipckit").has_value());
}

TEST(Proc, CapabilityAnswerMatchesWhatTheKernelAllows) {
    // CAP_SYS_RESOURCE is what lets a pipe grow past pipe-max-size: the
    // helper's answer must agree with the kernel's decision.
    auto max = kit::read_long_file("/proc/sys/fs/pipe-max-size");
    ASSERT_TRUE(max.has_value());
    auto p = kit::make_pipe();
    int rc = ::fcntl(p.write.get(), F_SETPIPE_SZ, static_cast<int>(*max * 2));
    if (kit::has_capability(kit::kCapSysResource)) {
        EXPECT_NE(rc, -1) << std::strerror(errno);
    } else {
        EXPECT_EQ(rc, -1);
        EXPECT_EQ(errno, EPERM);
    }
    EXPECT_FALSE(kit::has_capability(63));  // beyond every defined capability
}

TEST(Proc, ProcessStateShowsRunningBlockedAndGone) {
    EXPECT_EQ(kit::process_state(::getpid()), 'R');
    auto p = kit::make_pipe();
    auto child = kit::spawn([&] {
        char c;
        return static_cast<int>(::read(p.read.get(), &c, 1));
    });
    const pid_t pid = child.pid();
    EXPECT_TRUE(kit::wait_until_blocked(pid, "pipe_read"));
    EXPECT_EQ(kit::process_state(pid), 'S');
    ASSERT_EQ(::write(p.write.get(), "x", 1), 1);
    auto st = child.wait();
    EXPECT_TRUE(st.exited_with(1)) << st.describe();
    EXPECT_EQ(kit::process_state(pid), '?');  // reaped: no /proc entry
}

TEST(Proc, WaitInSyscallSeesAChildBlockedInRead) {
    auto p = kit::make_pipe();
    auto child = kit::spawn([&] {
        char c;
        return static_cast<int>(::read(p.read.get(), &c, 1));
    });
    EXPECT_TRUE(kit::wait_in_syscall(child.pid(), SYS_read));
    EXPECT_FALSE(kit::wait_in_syscall(child.pid(), SYS_write, 50ms));  // in read, not write
    ASSERT_EQ(::write(p.write.get(), "x", 1), 1);
    EXPECT_TRUE(child.wait().exited_with(1));
}

TEST(Proc, WaitUntilBlockedGivesUpAtTheDeadline) {
    // This process is running, not blocked: the wait must end false.
    EXPECT_FALSE(kit::wait_until_blocked(::getpid(), "pipe_read", 50ms));
}

TEST(Build, ThreadSanitizerFlagMatchesTheBuildFlags) {
    const bool flags_say_tsan =
        std::string_view(KIT_CXX_FLAGS).find("sanitize=thread") != std::string_view::npos;
    EXPECT_EQ(kit::kThreadSanitizer, flags_say_tsan) << "CMAKE_CXX_FLAGS: " << KIT_CXX_FLAGS;
}

TEST(Seccomp, ExitGroupIsAllowedAndAnyOtherCallKills) {
    if (kit::kThreadSanitizer)
        GTEST_SKIP() << "ThreadSanitizer's runtime makes system calls of its own";
    auto quiet = kit::spawn([] {
        if (kit::forbid_system_calls(kit::OnSyscall::kill) != 0) return 77;
        ::syscall(SYS_exit_group, 0);  // the one call allowed
        return 1;
    });
    auto st = quiet.wait();
    if (st.exited_with(77)) GTEST_SKIP() << "seccomp filters are refused here";
    EXPECT_TRUE(st.ok()) << st.describe();
    auto caller = kit::spawn([] {
        if (kit::forbid_system_calls(kit::OnSyscall::kill) != 0) return 77;
        ::syscall(SYS_getppid);
        ::syscall(SYS_exit_group, 0);
        return 1;
    });
    EXPECT_TRUE(caller.wait().killed_by(SIGSYS));
}

TEST(Seccomp, TrapRaisesSigsysInsteadOfKilling) {
    if (kit::kThreadSanitizer)
        GTEST_SKIP() << "ThreadSanitizer's runtime makes system calls of its own";
    auto child = kit::spawn([] {
        struct sigaction sa {};
        sa.sa_sigaction = [](int, siginfo_t* info, void*) {
            ::syscall(SYS_exit_group, info->si_syscall == SYS_getppid ? 0 : 2);
        };
        sa.sa_flags = SA_SIGINFO;
        if (::sigaction(SIGSYS, &sa, nullptr) == -1) return 3;
        if (kit::forbid_system_calls(kit::OnSyscall::trap) != 0) return 77;
        ::syscall(SYS_getppid);  // trapped: the handler exits with 0
        ::syscall(SYS_exit_group, 4);
        return 5;
    });
    auto st = child.wait();
    if (st.exited_with(77)) GTEST_SKIP() << "seccomp filters are refused here";
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(TestMain, AnUnknownFlagStopsWithGoogleTestsUsageAndStatus2) {
    auto r = kit::test::run_program({"/proc/self/exe", "--bogus"});
    EXPECT_TRUE(r.status.exited_with(2)) << r.status.describe();
    EXPECT_NE(r.err.find("unknown flag '--bogus'"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("--gtest_filter"), std::string::npos) << "GoogleTest's usage: " << r.out;
    EXPECT_EQ(r.out.find("[ RUN      ]"), std::string::npos) << "no test may run";
}

TEST(StartProgram, RunsBesideTheTestAndReportsWhatItPrintedAndHowItEnded) {
    auto p = kit::test::start_program({"/bin/sh", "-c", "echo ready; echo done >&2; exit 3"});
    EXPECT_TRUE(p.wait_for("ready"));
    EXPECT_EQ(p.finish(), "FAILED: exited 3\nready\ndone\n");
    auto gone = kit::test::start_program({"/bin/sh", "-c", "exit 0"});
    EXPECT_FALSE(gone.wait_for("never printed")) << "EOF ends the wait";
}
