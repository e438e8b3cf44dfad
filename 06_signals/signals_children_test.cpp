// Tests of chapter 06 (chapter06.*), part 3: children and SIGCHLD, what
// cannot be caught, probing with kill(pid, 0) and pidfds, hardware signals,
// signals as a data channel, notification without a signal.
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
        struct sigaction sa {};
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
    auto r = run_program({program_path("reap_loop")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("SIGCHLD handler ran 1 time, reaped 5 children"), std::string::npos)
        << r.out;
}

TEST(Children, IgnoredSigchldReapsChildrenAndWaitpidFailsWithEchild) {
    auto r = run_program({program_path("auto_reap"), "ignore"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.out << r.err;
    EXPECT_NE(r.out.find("waited, then = -1 ECHILD"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": no zombie"), std::string::npos) << r.out;
}

TEST(Children, SaNocldwaitReapsChildrenAndWaitpidFailsWithEchild) {
    auto r = run_program({program_path("auto_reap"), "nocldwait"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.out << r.err;
    EXPECT_NE(r.out.find("waited, then = -1 ECHILD"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": no zombie"), std::string::npos) << r.out;
}

// --- what cannot be caught --------------------------------------------------

TEST(Uncatchable, SigactionOnSigkillOrSigstopFailsWithEinval) {
    for (int sig : {SIGKILL, SIGSTOP}) {
        for (auto handler : {count_signal, SIG_IGN}) {
            struct sigaction sa {};
            sa.sa_handler = handler;
            sigemptyset(&sa.sa_mask);
            errno = 0;
            EXPECT_EQ(::sigaction(sig, &sa, nullptr), -1) << sig;
            EXPECT_EQ(errno, EINVAL) << sig;
        }
    }
}

TEST(Uncatchable, SigprocmaskSilentlyLeavesSigkillAndSigstopUnblocked) {
    auto r = run_program({program_path("uncatchable")});
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

// Permission: an unprivileged sender may signal only processes of its own
// user (real or effective uid matching the target's real or saved uid).
TEST(Probe, KillOfAnotherUsersProcessFailsWithEperm) {
    constexpr int kCapSetuid = 7;
    if (!kit::has_capability(kCapSetuid)) GTEST_SKIP() << "needs CAP_SETUID to become another user";
    if (::getuid() == 65534) GTEST_SKIP() << "already running as nobody";
    const pid_t parent = ::getpid();
    auto child = kit::spawn([&] {
        kit::check(::setgid(65534), "setgid");
        kit::check(::setuid(65534), "setuid");  // nobody: no capabilities left
        errno = 0;
        if (::kill(parent, 0) != -1 || errno != EPERM) return 10;  // exists, but not ours
        errno = 0;
        return ::kill(parent, SIGTERM) == -1 && errno == EPERM ? 0 : 11;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << "kill(other user's pid) should fail with EPERM: " << st.describe();
}

TEST(Pidfd, SignalSentThroughAPidfdReachesThatProcess) {
    auto r = run_program({program_path("pidfd_signal")});
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
    auto r = run_program({program_path("sigfpe_returns")});
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
    auto r = run_program({program_path("signal_payload")});
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
