// Tests of chapter 06 (chapter06.*), part 1: the signal table, sigaction and
// SIGTERM, what fork and exec inherit, and what a handler may do. Real
// processes throughout; synchronisation by pipes, blocked signals and waitpid.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/sanitizer.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "signals_test_util.hpp"

using namespace std::chrono_literals;
using kit::test::program_path;
using kit::test::run_program;
using namespace ch06::test;

// --- the signal table -------------------------------------------------------

TEST(SignalNumbers, Usr1Is10Usr2Is12AndChldIs17OnX86_64) {
#if !defined(__x86_64__)
    GTEST_SKIP() << "the numbers are architecture-specific; this case states x86-64's";
#else
    EXPECT_EQ(SIGUSR1, 10);
    EXPECT_EQ(SIGUSR2, 12);
    EXPECT_EQ(SIGCHLD, 17);
    EXPECT_EQ(SIGSTKFLT, 16);  // what note 004 calls SIGUSR1
    auto r = run_program({program_path("signal_numbers")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe();
    EXPECT_NE(r.out.find(" 10  SIGUSR1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" 12  SIGUSR2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" 17  SIGCHLD"), std::string::npos) << r.out;
#endif
}

TEST(SignalNumbers, GlibcKeepsTheFirstTwoRealtimeSignalsForItself) {
#if !defined(__GLIBC__)
    GTEST_SKIP() << "a statement about glibc";
#else
    EXPECT_EQ(SIGRTMIN, __SIGRTMIN + 2);  // the kernel's first is __SIGRTMIN (32)
    EXPECT_EQ(SIGRTMAX, __SIGRTMAX);
#endif
}

TEST(SignalNumbers, ThereAreAtLeast30RealtimeSignals) {
    EXPECT_GE(SIGRTMAX - SIGRTMIN + 1, 30);  // POSIX asks for 8 (_POSIX_RTSIG_MAX); Linux has 32
}

// --- sigaction, handlers, SIGTERM -------------------------------------------

// With no handler, SIGUSR1 and SIGUSR2 terminate the process (default "Term").
TEST(SignalDefaults, UnhandledSigusr1AndSigusr2TerminateTheProcess) {
    for (int sig : {SIGUSR1, SIGUSR2}) {
        auto ready = kit::make_pipe(), never = kit::make_pipe();
        auto child = kit::spawn([&] {
            ::alarm(5);
            install(sig, SIG_DFL);  // no handler: the default action
            signal_gate(ready.write.get());
            (void)pass_gate(never.read.get());
            return 0;  // reached only if the signal did not end the process
        });
        ASSERT_TRUE(pass_gate(ready.read.get()));
        ASSERT_EQ(::kill(child.pid(), sig), 0);
        auto st = child.wait();  // WIFSIGNALED, WTERMSIG(status) == sig
        EXPECT_TRUE(st.killed_by(sig))
            << (sig == SIGUSR1 ? "SIGUSR1: " : "SIGUSR2: ") << st.describe();
    }
    auto r = run_program({program_path("default_action")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGUSR1, no handler: child killed by signal"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("SIGUSR2, no handler: child killed by signal"), std::string::npos)
        << r.out;
}

TEST(Sigaction, SigtermCaughtByHandlerAllowsGracefulExit) {
    auto r = run_program({program_path("graceful_shutdown")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGTERM caught, flushing and exiting"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("worker exited with status 0"), std::string::npos) << r.out;
}

TEST(Sigaction, IgnoredSigtermDoesNotStopTheProcess) {
    auto ready = kit::make_pipe(), go = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        install(SIGTERM, SIG_IGN);
        signal_gate(ready.write.get());
        return pass_gate(go.read.get()) ? 42 : 1;  // still alive after SIGTERM
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);
    signal_gate(go.write.get());
    auto st = child.wait();
    EXPECT_TRUE(st.exited_with(42)) << st.describe();
}

TEST(Sigaction, GlibcSignalMeansSaRestartAndNoReset) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    auto child = kit::spawn([] {
        if (::signal(SIGUSR1, count_signal) == SIG_ERR) return 10;
        struct sigaction now {};
        kit::check(::sigaction(SIGUSR1, nullptr, &now), "sigaction");  // read it back
        if (now.sa_handler != count_signal) return 11;
        if (!(now.sa_flags & SA_RESTART)) return 12;
        return (now.sa_flags & SA_RESETHAND) ? 13 : 0;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

namespace {
// One line of /proc/<pid>/status such as "SigIgn:\t0000000000000800" as a bit mask.
unsigned long long status_mask(const std::string& status, const std::string& field) {
    auto at = status.find(field + ":");
    if (at == std::string::npos) return 0;
    return std::stoull(status.substr(at + field.size() + 1), nullptr, 16);
}
constexpr unsigned long long bit(int sig) { return 1ULL << (sig - 1); }
// Everything a pipe holds until EOF, each read bounded.
std::string read_all(int fd) {
    std::string text;
    char buf[4096];
    ssize_t n;
    while (kit::wait_readable(fd) && (n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, n);
    return text;
}

// What a process's signal state looks like right after fork and right after
// exec: in a child, prepare() sets it up and forks; the grandchild reports its
// /proc/self/status, runs before_exec(), then execs cat to report it again.
struct ForkExecReport {
    kit::ExitStatus status;
    std::string forked, execed;
};
template <class Prepare, class BeforeExec>
ForkExecReport report_after_fork_and_exec(Prepare prepare, BeforeExec before_exec) {
    auto after_fork = kit::make_pipe(), after_exec = kit::make_pipe();
    auto child = kit::spawn([&] {
        if (int rc = prepare(); rc != 0) return rc;
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            auto mine = kit::read_text_file("/proc/self/status").value_or("");
            (void)!::write(after_fork.write.get(), mine.data(), mine.size());
            before_exec();
            ::dup2(after_exec.write.get(), STDOUT_FILENO);
            ::execl("/bin/cat", "cat", "/proc/self/status", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        int ws = 0;
        kit::check(::waitpid(pid, &ws, 0), "waitpid");
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
    });
    after_fork.write.reset();
    after_exec.write.reset();
    ForkExecReport r;
    r.status = child.wait();
    r.forked = read_all(after_fork.read.get());
    r.execed = read_all(after_exec.read.get());
    return r;
}
}  // namespace

TEST(Inheritance, ForkKeepsHandlersIgnoredAndMaskExecResetsOnlyHandlers) {
    auto r = report_after_fork_and_exec(
        [] {
            install(SIGUSR1, count_signal);  // handled
            install(SIGUSR2, SIG_IGN);       // ignored
            const sigset_t term = set_of({SIGTERM});
            kit::check(::sigprocmask(SIG_BLOCK, &term, nullptr), "sigprocmask");  // blocked
            return 0;
        },
        [] {});
    ASSERT_TRUE(r.status.ok()) << r.status.describe();
    EXPECT_TRUE(status_mask(r.forked, "SigCgt") & bit(SIGUSR1)) << r.forked;
    EXPECT_TRUE(status_mask(r.forked, "SigIgn") & bit(SIGUSR2)) << r.forked;
    EXPECT_TRUE(status_mask(r.forked, "SigBlk") & bit(SIGTERM)) << r.forked;
    EXPECT_FALSE(status_mask(r.execed, "SigCgt") & bit(SIGUSR1)) << r.execed;  // reset to default
    EXPECT_TRUE(status_mask(r.execed, "SigIgn") & bit(SIGUSR2)) << r.execed;
    EXPECT_TRUE(status_mask(r.execed, "SigBlk") & bit(SIGTERM)) << r.execed;
}

TEST(Inheritance, ForkStartsWithNoPendingSignalsExecKeepsThem) {
    auto r = report_after_fork_and_exec(
        [] {
            const sigset_t term = set_of({SIGTERM});
            kit::check(::sigprocmask(SIG_BLOCK, &term, nullptr), "sigprocmask");
            kit::check(::kill(::getpid(), SIGTERM), "kill");  // pending here, blocked
            sigset_t pending;
            kit::check(::sigpending(&pending), "sigpending");
            return sigismember(&pending, SIGTERM) == 1 ? 0 : 10;
        },
        [] { ::kill(::getpid(), SIGTERM); });  // make one pending in the child, then exec
    ASSERT_TRUE(r.status.ok()) << r.status.describe();
    ASSERT_NE(r.forked.find("ShdPnd:"), std::string::npos) << r.forked;
    EXPECT_FALSE(status_mask(r.forked, "ShdPnd") & bit(SIGTERM)) << r.forked;  // not inherited
    EXPECT_TRUE(status_mask(r.execed, "ShdPnd") & bit(SIGTERM)) << r.execed;   // survives execve
}

TEST(HandlerSafety, HandlerThatFailsASyscallOverwritesTheInterruptedErrno) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    auto r = run_program({program_path("handler_errno_broken")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "open() failed, errno is now EBADF (Bad file descriptor)\n");
}

TEST(HandlerSafety, HandlerThatSavesAndRestoresErrnoLeavesItIntact) {
    auto r = run_program({program_path("handler_errno_fixed")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "open() failed, errno is now ENOENT (No such file or directory)\n");
}

TEST(HandlerSafety, PrintfInAHandlerThatInterruptsAFlushLosesTheHandlersLine) {
    auto r = run_program({program_path("handler_stdio_broken")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "main line one\nmain line two\nthe handler ran 1 time\n");
}

TEST(HandlerSafety, WriteInTheHandlerIsSafeAndNothingIsLost) {
    auto r = run_program({program_path("handler_stdio_fixed")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "handler line\nmain line one\nmain line two\nthe handler ran 1 time\n");
}
