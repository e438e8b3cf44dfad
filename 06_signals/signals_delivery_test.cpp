// Tests of chapter 06 (chapter06.*), part 2: blocking and pending, waiting for
// a signal, standard signals coalescing and real-time signals queueing,
// delivery order, SA_RESTART and EINTR, waking an event loop. A child is
// "inside a call" when /proc/<pid>/syscall says so.
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
    auto r = run_program({program_path("signalfd_poll")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(count_lines_matching(r.out, "\\(the child\\)"), 2) << r.out;
}

// --- standard signals coalesce, real-time signals queue ---------------------

TEST(Coalescing, FiveStandardSignalsSentWhileBlockedAreDeliveredOnce) {
    auto r = run_program({program_path("coalesce_vs_queue")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGUSR1  sent 5, handler ran 1 time\n"), std::string::npos) << r.out;
}

TEST(RealtimeQueue, FiveRealtimeSignalsAreDeliveredFiveTimesWithTheirPayloadsInOrder) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    if (sigpending_limit() < 16) GTEST_SKIP() << "RLIMIT_SIGPENDING is below 16";
    auto r = run_program({program_path("coalesce_vs_queue")});
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
    auto r = run_program({program_path("rt_order")});
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
    auto r = run_program({program_path("restart_read"), "restart"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "child: read() restarted and returned 1 byte: 'x'\n");
}

TEST(Restart, BlockedPipeReadFailsWithEintrWithoutSaRestart) {
    if (!proc_syscall_readable()) GTEST_SKIP() << "/proc/<pid>/syscall is not available";
    auto r = run_program({program_path("restart_read"), "norestart"});
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
    auto r = run_program({program_path("never_restarted")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out.rfind("poll: EINTR despite SA_RESTART\n", 0), 0u) << r.out;
    EXPECT_EQ(count_lines_matching(r.out, "\\w+: EINTR despite SA_RESTART"), 2) << r.out;
    EXPECT_NE(r.out.find("remaining > 0: yes"), std::string::npos) << r.out;
}

// --- waking an event loop ---------------------------------------------------

TEST(SelfPipe, FlagCheckedBeforePollMissesASignalArrivingInBetween) {
    auto r = run_program({program_path("self_pipe_broken")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("(flag = 1), poll() still slept until its timeout (returned 0)"),
              std::string::npos)
        << r.out;
}

TEST(SelfPipe, ByteWrittenByTheHandlerWakesPoll) {
    auto r = run_program({program_path("self_pipe_fixed")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_EQ(r.out, "pipe: poll() returned 1 at once: self-pipe readable, signal seen\n");
}
