// Tests of chapter 06 (chapter06.*): every fact the lesson states about
// signals, proved with real processes. Synchronisation is by pipes, blocked
// signals and waitpid; a child is "inside a call" when /proc/<pid>/syscall says so.
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

#include "kit/sanitizer.hpp"
#include "kit/proc.hpp"
#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit_test/program.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

#include "kit/wait.hpp"

using namespace std::chrono_literals;

namespace {

kit::test::Captured run(const std::string& prog, std::vector<std::string> args = {}) {
    args.insert(args.begin(), std::string(KIT_BIN_DIR) + "/" + prog);
    return kit::test::run_program(args);
}

// One byte through a pipe: "I am ready" / "go on". Bounded: false on timeout or EOF.
void signal_gate(int fd) { kit::write_all(fd, std::as_bytes(std::span("g", 1))); }
[[nodiscard]] bool pass_gate(int fd) {
    if (!kit::wait_readable(fd)) return false;
    char c;
    return ::read(fd, &c, 1) == 1;
}

sigset_t set_of(std::initializer_list<int> sigs) {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : sigs) sigaddset(&s, sig);
    return s;
}

volatile sig_atomic_t g_count = 0;
void count_signal(int) { g_count = g_count + 1; }

void install(int sig, void (*handler)(int), int flags = 0) {
    struct sigaction sa{};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
}

int count_lines_matching(const std::string& text, const std::string& pattern) {
    const std::regex re(pattern);
    return int(std::distance(std::sregex_iterator(text.begin(), text.end(), re),
                             std::sregex_iterator()));
}

// The Restart cases see "the child is blocked in read()" in /proc/<pid>/syscall.
bool proc_syscall_readable() {
    auto text = kit::read_text_file("/proc/self/syscall");
    return text && !text->empty();
}

// ThreadSanitizer intercepts sigaction() and delivers signals itself: it defers
// handlers, keeps its own pending table (which merges real-time signals) and
// installs handlers without SA_RESTART. Cases about those kernel facts would
// observe the sanitizer, not Linux, so they skip under it.
constexpr bool under_tsan() { return kit::kThreadSanitizer; }
constexpr const char* kTsanReason = "ThreadSanitizer replaces the kernel's signal delivery";

rlim_t sigpending_limit() {
    rlimit r{};
    kit::check(::getrlimit(RLIMIT_SIGPENDING, &r), "getrlimit");
    return r.rlim_cur;
}

}  // namespace

// --- the signal table -------------------------------------------------------

TEST(SignalNumbers, Usr1Is10Usr2Is12AndChldIs17OnX86_64) {
#if !defined(__x86_64__)
    GTEST_SKIP() << "the numbers are architecture-specific; this case states x86-64's";
#else
    EXPECT_EQ(SIGUSR1, 10);
    EXPECT_EQ(SIGUSR2, 12);
    EXPECT_EQ(SIGCHLD, 17);
    auto r = run("signal_numbers");
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

TEST(Sigaction, SigtermCaughtByHandlerAllowsGracefulExit) {
    auto r = run("graceful_shutdown");
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
        struct sigaction now{};
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
    auto r = run("handler_errno", {"broken"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "open() failed, errno is now EBADF (Bad file descriptor)\n");
}

TEST(HandlerSafety, HandlerThatSavesAndRestoresErrnoLeavesItIntact) {
    auto r = run("handler_errno", {"fixed"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "open() failed, errno is now ENOENT (No such file or directory)\n");
}

TEST(HandlerSafety, PrintfInAHandlerThatInterruptsAFlushLosesTheHandlersLine) {
    auto r = run("handler_stdio", {"broken"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "main line one\nmain line two\nthe handler ran 1 time\n");
}

TEST(HandlerSafety, WriteInTheHandlerIsSafeAndNothingIsLost) {
    auto r = run("handler_stdio", {"fixed"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "handler line\nmain line one\nmain line two\nthe handler ran 1 time\n");
}

// --- blocking, pending, waiting ---------------------------------------------

TEST(Pending, BlockedSignalStaysPendingAndIsDeliveredOnUnblock) {
    auto ready = kit::make_pipe(), go = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        install(SIGUSR1, count_signal);
        const sigset_t usr1 = set_of({SIGUSR1});
        kit::check(::sigprocmask(SIG_BLOCK, &usr1, nullptr), "sigprocmask");
        signal_gate(ready.write.get());
        if (!pass_gate(go.read.get())) return 10;
        sigset_t pending;
        kit::check(::sigpending(&pending), "sigpending");
        if (sigismember(&pending, SIGUSR1) != 1) return 11;  // sent, held back
        if (g_count != 0) return 12;                         // handler has not run
        kit::check(::sigprocmask(SIG_UNBLOCK, &usr1, nullptr), "sigprocmask");
        if (g_count != 1) return 13;  // delivered before sigprocmask returned
        kit::check(::sigpending(&pending), "sigpending");
        return sigismember(&pending, SIGUSR1) == 0 ? 0 : 14;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::kill(child.pid(), SIGUSR1), 0);
    signal_gate(go.write.get());
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(Waiting, SigsuspendLetsInASignalSentBeforeTheWaitAndReturnsEintr) {
    auto ready = kit::make_pipe(), go = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);  // a lost signal would leave sigsuspend asleep until SIGALRM kills us
        install(SIGUSR1, count_signal);
        const sigset_t usr1 = set_of({SIGUSR1});
        sigset_t old;
        kit::check(::sigprocmask(SIG_BLOCK, &usr1, &old), "sigprocmask");
        signal_gate(ready.write.get());
        if (!pass_gate(go.read.get())) return 10;  // SIGUSR1 was sent: pending, not yet handled
        if (g_count != 0) return 11;
        const int rc = ::sigsuspend(&old);  // unblock and sleep in one step
        if (rc != -1 || errno != EINTR) return 12;
        if (g_count != 1) return 13;
        sigset_t now;
        kit::check(::sigprocmask(SIG_BLOCK, nullptr, &now), "sigprocmask");
        return sigismember(&now, SIGUSR1) == 1 ? 0 : 14;  // the previous mask is back
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::kill(child.pid(), SIGUSR1), 0);
    signal_gate(go.write.get());
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(Waiting, SigwaitinfoTakesABlockedSignalWithSenderAndPayload) {
    const sigset_t rt = set_of({SIGRTMIN});
    auto ready = kit::make_pipe();
    const pid_t parent = ::getpid();
    auto child = kit::spawn([&] {
        ::alarm(5);
        kit::check(::sigprocmask(SIG_BLOCK, &rt, nullptr), "sigprocmask");
        signal_gate(ready.write.get());
        siginfo_t info{};
        const timespec bound{5, 0};
        int sig = kit::check(::sigtimedwait(&rt, &info, &bound), "sigtimedwait");
        if (sig != SIGRTMIN) return 10;
        if (info.si_code != SI_QUEUE) return 11;
        if (info.si_pid != parent) return 12;
        return info.si_value.sival_int == 1234 ? 0 : 13;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::sigqueue(child.pid(), SIGRTMIN, sigval{.sival_int = 1234}), 0);
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(Waiting, SignalfdDeliversARecordWithSenderAndPayload) {
    const sigset_t rt = set_of({SIGRTMIN});
    auto ready = kit::make_pipe();
    const pid_t parent = ::getpid();
    auto child = kit::spawn([&] {
        ::alarm(5);
        kit::check(::sigprocmask(SIG_BLOCK, &rt, nullptr), "sigprocmask");
        kit::Fd sfd(kit::check(::signalfd(-1, &rt, SFD_CLOEXEC), "signalfd"));
        signal_gate(ready.write.get());
        if (!kit::wait_readable(sfd.get())) return 10;  // poll() sees the signal as input
        signalfd_siginfo si{};
        if (kit::check(::read(sfd.get(), &si, sizeof si), "read") != sizeof si) return 11;
        if (int(si.ssi_signo) != SIGRTMIN) return 12;
        if (pid_t(si.ssi_pid) != parent) return 13;
        if (si.ssi_code != SI_QUEUE) return 14;
        return si.ssi_int == 77 ? 0 : 15;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::sigqueue(child.pid(), SIGRTMIN, sigval{.sival_int = 77}), 0);
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
    auto r = run("signalfd_poll");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(count_lines_matching(r.out, "\\(the child\\)"), 2) << r.out;
}

// --- standard signals coalesce, real-time signals queue ---------------------

TEST(Coalescing, FiveStandardSignalsSentWhileBlockedAreDeliveredOnce) {
    auto r = run("coalesce_vs_queue");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGUSR1  sent 5, handler ran 1 time\n"), std::string::npos) << r.out;
}

TEST(RealtimeQueue, FiveRealtimeSignalsAreDeliveredFiveTimesWithTheirPayloadsInOrder) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    if (sigpending_limit() < 16) GTEST_SKIP() << "RLIMIT_SIGPENDING is below 16";
    auto r = run("coalesce_vs_queue");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGRTMIN sent 5, handler ran 5 times, payloads 1 2 3 4 5\n"),
              std::string::npos)
        << r.out;
}

TEST(RealtimeQueue, SigqueueFailsWithEagainWhenTheReceiversQueueLimitIsReached) {
    auto ready = kit::make_pipe(), go = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        const rlimit none{0, 0};  // the receiver's limit is the one checked
        kit::check(::setrlimit(RLIMIT_SIGPENDING, &none), "setrlimit");
        const sigset_t rt = set_of({SIGRTMIN});
        kit::check(::sigprocmask(SIG_BLOCK, &rt, nullptr), "sigprocmask");
        signal_gate(ready.write.get());
        return pass_gate(go.read.get()) ? 0 : 10;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    errno = 0;
    EXPECT_EQ(::sigqueue(child.pid(), SIGRTMIN, sigval{.sival_int = 1}), -1);
    EXPECT_EQ(errno, EAGAIN);
    signal_gate(go.write.get());
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(RealtimeQueue, LowestNumberIsTakenFirstAndEachSignalInSendingOrder) {
    if (sigpending_limit() < 16) GTEST_SKIP() << "RLIMIT_SIGPENDING is below 16";
    auto r = run("rt_order");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("received: SIGUSR2 RTMIN+0:1 RTMIN+0:2 RTMIN+1:101 RTMIN+1:102 "
                         "RTMIN+2:201 RTMIN+2:202\n"),
              std::string::npos)
        << r.out;
}

// SIGSEGV (11) is taken before SIGUSR1 (10): the kernel dequeues the fault
// signals (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS) before any other.
TEST(DeliveryOrder, FaultSignalsAreTakenBeforeLowerNumberedOnes) {
    const sigset_t both = set_of({SIGUSR1, SIGSEGV});
    auto ready = kit::make_pipe(), go = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        kit::check(::sigprocmask(SIG_BLOCK, &both, nullptr), "sigprocmask");
        signal_gate(ready.write.get());
        if (!pass_gate(go.read.get())) return 10;
        const timespec bound{5, 0};
        siginfo_t info{};
        const int first = kit::check(::sigtimedwait(&both, &info, &bound), "sigtimedwait");
        const int second = kit::check(::sigtimedwait(&both, &info, &bound), "sigtimedwait");
        return first == SIGSEGV && second == SIGUSR1 ? 0 : 11;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::kill(child.pid(), SIGUSR1), 0);  // the lower number, and sent first
    ASSERT_EQ(::kill(child.pid(), SIGSEGV), 0);
    signal_gate(go.write.get());
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

// --- SA_RESTART and EINTR ----------------------------------------------------

TEST(Restart, BlockedPipeReadIsRestartedWithSaRestart) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    if (!proc_syscall_readable()) GTEST_SKIP() << "/proc/<pid>/syscall is not available";
    auto r = run("restart_read", {"restart"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "child: read() restarted and returned 1 byte: 'x'\n");
}

TEST(Restart, BlockedPipeReadFailsWithEintrWithoutSaRestart) {
    if (!proc_syscall_readable()) GTEST_SKIP() << "/proc/<pid>/syscall is not available";
    auto r = run("restart_read", {"norestart"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "child: read() = -1, errno EINTR (Interrupted system call)\n");
}

// Also directly: a child blocked in read() without SA_RESTART sees EINTR.
TEST(Restart, ReadInterruptedInAnotherProcessReturnsEintr) {
    if (!proc_syscall_readable()) GTEST_SKIP() << "/proc/<pid>/syscall is not available";
    auto ready = kit::make_pipe(), data = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        install(SIGUSR1, count_signal, 0);
        signal_gate(ready.write.get());
        char c;
        ssize_t n = ::read(data.read.get(), &c, 1);
        return n == -1 && errno == EINTR && g_count == 1 ? 0 : 10;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_TRUE(kit::wait_in_syscall(child.pid(), SYS_read));
    ASSERT_EQ(::kill(child.pid(), SIGUSR1), 0);
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(Restart, PollAndTimerWaitFailWithEintrDespiteSaRestart) {
    if (!proc_syscall_readable()) GTEST_SKIP() << "/proc/<pid>/syscall is not available";
    auto r = run("never_restarted");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out.rfind("poll: EINTR despite SA_RESTART\n", 0), 0u) << r.out;
    EXPECT_EQ(count_lines_matching(r.out, "\\w+: EINTR despite SA_RESTART"), 2) << r.out;
    EXPECT_NE(r.out.find("remaining > 0: yes"), std::string::npos) << r.out;
}

// --- waking an event loop ---------------------------------------------------

TEST(SelfPipe, FlagCheckedBeforePollMissesASignalArrivingInBetween) {
    auto r = run("self_pipe", {"flag"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("(flag = 1), poll() still slept until its timeout (returned 0)"),
              std::string::npos)
        << r.out;
}

TEST(SelfPipe, ByteWrittenByTheHandlerWakesPoll) {
    auto r = run("self_pipe", {"pipe"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "pipe: poll() returned 1 at once: self-pipe readable, signal seen\n");
}

// --- children and SIGCHLD ---------------------------------------------------

TEST(Children, ExitedChildIsAZombieInProcUntilReaped) {
    auto child = kit::spawn([] { return 3; });
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, id_t(child.pid()), &info, WEXITED | WNOWAIT), 0);  // exited, kept
    EXPECT_EQ(kit::process_state(child.pid()), 'Z');
    EXPECT_EQ(::kill(child.pid(), 0), 0);  // a zombie still exists
    const pid_t pid = child.pid();
    auto st = child.wait();  // waitpid: reaped
    EXPECT_TRUE(st.exited_with(3)) << st.describe();
    EXPECT_EQ(kit::process_state(pid), '?');
}

TEST(Children, SigchldCoalescesSoOneWaitpidPerSignalLeavesZombies) {
    // In a child of the test, so the SIGCHLD handler stays there.
    auto sub = kit::spawn([] {
        ::alarm(5);
        struct sigaction sa{};
        sa.sa_handler = [](int) {
            const int saved = errno;
            int ws;
            ::waitpid(-1, &ws, WNOHANG);  // the bug: one child per signal
            errno = saved;
        };
        sigemptyset(&sa.sa_mask);
        kit::check(::sigaction(SIGCHLD, &sa, nullptr), "sigaction");
        const sigset_t chld = set_of({SIGCHLD});
        kit::check(::sigprocmask(SIG_BLOCK, &chld, nullptr), "sigprocmask");
        std::vector<pid_t> kids;
        for (int i = 0; i < 5; ++i) {
            pid_t pid = kit::check(::fork(), "fork");
            if (pid == 0) ::_exit(0);
            kids.push_back(pid);
            siginfo_t info{};
            kit::check(::waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT), "waitid");
        }
        kit::check(::sigprocmask(SIG_UNBLOCK, &chld, nullptr), "sigprocmask");
        int zombies = 0;
        for (pid_t k : kids) zombies += kit::process_state(k) == 'Z';
        int ws;
        while (::waitpid(-1, &ws, 0) > 0) {
        }
        return zombies;
    });
    auto st = sub.wait();
    EXPECT_TRUE(st.exited_with(4)) << "zombies left: " << st.describe();
}

TEST(Children, WaitpidLoopInTheHandlerReapsEveryChild) {
    auto r = run("reap_loop");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGCHLD handler ran 1 time, reaped 5 children"), std::string::npos)
        << r.out;
}

TEST(Children, IgnoredSigchldReapsChildrenAndWaitpidFailsWithEchild) {
    auto r = run("auto_reap", {"ignore"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.out << r.err;
    EXPECT_NE(r.out.find("waited, then = -1 ECHILD"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": no zombie"), std::string::npos) << r.out;
}

TEST(Children, SaNocldwaitReapsChildrenAndWaitpidFailsWithEchild) {
    auto r = run("auto_reap", {"nocldwait"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.out << r.err;
    EXPECT_NE(r.out.find("waited, then = -1 ECHILD"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": no zombie"), std::string::npos) << r.out;
}

// --- what cannot be caught --------------------------------------------------

TEST(Uncatchable, SigactionOnSigkillOrSigstopFailsWithEinval) {
    for (int sig : {SIGKILL, SIGSTOP}) {
        for (auto handler : {count_signal, SIG_IGN}) {
            struct sigaction sa{};
            sa.sa_handler = handler;
            sigemptyset(&sa.sa_mask);
            errno = 0;
            EXPECT_EQ(::sigaction(sig, &sa, nullptr), -1) << sig;
            EXPECT_EQ(errno, EINVAL) << sig;
        }
    }
}

TEST(Uncatchable, SigprocmaskSilentlyLeavesSigkillAndSigstopUnblocked) {
    auto r = run("uncatchable");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGKILL blocked: no, SIGSTOP blocked: no"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sigaction(SIGTERM, handler) = 0\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sigaction(SIGTERM, SIG_IGN) = 0\n"), std::string::npos) << r.out;
}

TEST(Uncatchable, SigkillEndsAProcessThatBlockedAndIgnoredEverythingElse) {
    auto ready = kit::make_pipe(), never = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        sigset_t all;
        sigfillset(&all);
        kit::check(::sigprocmask(SIG_BLOCK, &all, nullptr), "sigprocmask");
        signal_gate(ready.write.get());
        (void)pass_gate(never.read.get());
        return 0;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);  // blocked: stays pending
    ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
    auto st = child.wait();
    EXPECT_TRUE(st.killed_by(SIGKILL)) << st.describe();
}

// --- probing and pidfds -----------------------------------------------------

TEST(Probe, KillWithSignalZeroChecksExistenceAndSendsNothing) {
    auto ready = kit::make_pipe(), go = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        sigset_t all;
        sigfillset(&all);
        kit::check(::sigprocmask(SIG_BLOCK, &all, nullptr), "sigprocmask");  // keep anything sent
        signal_gate(ready.write.get());
        if (!pass_gate(go.read.get())) return 10;
        sigset_t pending;
        kit::check(::sigpending(&pending), "sigpending");
        return sigisemptyset(&pending) ? 0 : 11;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    EXPECT_EQ(::kill(child.pid(), 0), 0);
    signal_gate(go.write.get());
    const pid_t pid = child.pid();
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1);  // reaped (unless the pid was already reused: very unlikely)
    EXPECT_EQ(errno, ESRCH);
}

TEST(Pidfd, SignalSentThroughAPidfdReachesThatProcess) {
    auto r = run("pidfd_signal");
    if (r.out.empty() && r.err.find("pidfd_open: Function not implemented") != std::string::npos)
        GTEST_SKIP() << "kernel without pidfd_open (Linux < 5.3)";
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("poll(pidfd) readable: the child has exited"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("waitpid: killed by SIGTERM"), std::string::npos) << r.out;
}

TEST(Pidfd, PidfdOfAReapedProcessFailsWithEsrch) {
    auto child = kit::spawn([] { return 0; });
    kit::Fd pidfd(int(::syscall(SYS_pidfd_open, child.pid(), 0)));
    if (!pidfd && errno == ENOSYS) GTEST_SKIP() << "kernel without pidfd_open (Linux < 5.3)";
    ASSERT_TRUE(pidfd) << std::strerror(errno);
    ASSERT_TRUE(child.wait().ok());
    errno = 0;
    EXPECT_EQ(::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0), -1);
    EXPECT_EQ(errno, ESRCH);  // never a newcomer that got the same pid number
}

// --- hardware signals -------------------------------------------------------

TEST(Sigfpe, ReturningFromTheHandlerRunsTheFaultingDivisionAgain) {
    auto r = run("sigfpe_returns");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("entered 3 times for one division (si_code FPE_INTDIV)"),
              std::string::npos)
        << r.out;
}

// --- signals as a data channel ----------------------------------------------

TEST(Payload, SigvalHoldsOneIntOrPointerSizedValue) {
    EXPECT_EQ(sizeof(sigval), sizeof(void*));
    EXPECT_GE(sizeof(sigval), sizeof(int));
}

TEST(Payload, StandardSignalCarriesAValueButASecondPendingOneIsSilentlyDropped) {
    const sigset_t usr1 = set_of({SIGUSR1});
    auto ready = kit::make_pipe(), go = kit::make_pipe();
    const pid_t parent = ::getpid();
    auto child = kit::spawn([&] {
        ::alarm(5);
        kit::check(::sigprocmask(SIG_BLOCK, &usr1, nullptr), "sigprocmask");
        signal_gate(ready.write.get());
        if (!pass_gate(go.read.get())) return 10;
        siginfo_t info{};
        const timespec zero{0, 0};
        if (kit::check(::sigtimedwait(&usr1, &info, &zero), "sigtimedwait") != SIGUSR1) return 11;
        if (info.si_code != SI_QUEUE || info.si_pid != parent) return 12;
        if (info.si_value.sival_int != 1) return 13;  // the first value, not the second
        errno = 0;
        return ::sigtimedwait(&usr1, &info, &zero) == -1 && errno == EAGAIN ? 0 : 14;  // no other
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    EXPECT_EQ(::sigqueue(child.pid(), SIGUSR1, sigval{.sival_int = 1}), 0);
    EXPECT_EQ(::sigqueue(child.pid(), SIGUSR1, sigval{.sival_int = 2}), 0);  // "succeeds"
    signal_gate(go.write.get());
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

TEST(Payload, HundredByteMessageNeedsThirteenRealtimeSignalsAndStandardSignalsLoseIt) {
    if (sigpending_limit() < 32) GTEST_SKIP() << "RLIMIT_SIGPENDING is below 32";
    auto r = run("signal_payload");
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("100-byte message sent as 13 sigqueue() calls, received intact: yes"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("800 bits sent as SIGUSR1/SIGUSR2, received 2 signals"), std::string::npos)
        << r.out;
}

// --- asynchronous notification without signals -----------------------------

namespace {
int g_notified_fd = -1;
void on_message(sigval) { (void)!::write(g_notified_fd, "n", 1); }
}  // namespace

TEST(Async, MqNotifyCanStartAThreadWithNoSignalAtAll) {
    if (under_tsan())  // glibc creates the notification thread internally, unseen by the sanitizer
        GTEST_SKIP() << "ThreadSanitizer cannot run code in glibc's SIGEV_THREAD thread";
    const std::string name = kit::unique_posix_name("notify");
    mq_attr attr{};
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = 8;
    mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    ASSERT_NE(q, mqd_t(-1)) << std::strerror(errno);
    auto guard = kit::mq_unlink_guard(name);
    auto go = kit::make_pipe();
    auto sender = kit::spawn([&] {  // another process sends once the notification is armed
        if (!pass_gate(go.read.get())) return 10;
        mqd_t s = kit::check(::mq_open(name.c_str(), O_WRONLY), "mq_open");
        return ::mq_send(s, "hi", 2, 0) == 0 ? 0 : 1;
    });
    // Every signal blocked in this process: a signal-based notification could
    // not run anything, yet the function runs.
    sigset_t all, old;
    sigfillset(&all);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &all, &old), 0);
    auto notified = kit::make_pipe();
    g_notified_fd = notified.write.get();
    sigevent sev{};
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = on_message;
    ASSERT_EQ(::mq_notify(q, &sev), 0);
    signal_gate(go.write.get());

    EXPECT_TRUE(sender.wait().ok());
    EXPECT_TRUE(pass_gate(notified.read.get()));  // the thread ran
    sigset_t pending;
    ASSERT_EQ(::sigpending(&pending), 0);
    // The sender's exit may leave SIGCHLD pending (it is blocked here); apart
    // from that, the notification generated no signal at all.
    sigdelset(&pending, SIGCHLD);
    EXPECT_TRUE(sigisemptyset(&pending));
    ::mq_close(q);
    ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
}
