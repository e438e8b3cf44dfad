// Tests of chapter 06 (chapter06.SignalCrash.*), the crash lab: a process is
// killed with SIGKILL at the step that matters (it has said "I am at step X"
// through a pipe and is provably blocked reading another), and the test looks
// at what the survivor sees and what is left in the system. Helpers that need
// a namespace or a subreaper run in a forked child, so the test process keeps
// its own state; they report by exit code (77: the machine refused a premise).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "signals_test_util.hpp"

using namespace ch06::test;

namespace {

constexpr int kRefused = 77;  // a helper's "the machine does not grant the premise"

// A field of /proc/<pid>/status such as "SigQ:\t4/96362", the text after the tab.
std::string status_field(const std::string& pid, const std::string& field) {
    auto text = kit::read_text_file("/proc/" + pid + "/status").value_or("");
    auto at = text.find("\n" + field + ":\t");
    if (at == std::string::npos) return "?";
    at += field.size() + 3;
    return text.substr(at, text.find('\n', at) - at);
}

// The parent pid field (4th) of /proc/<pid>/stat; -1 if unreadable.
pid_t proc_ppid(pid_t pid) {
    auto text = kit::read_text_file("/proc/" + std::to_string(pid) + "/stat").value_or("");
    auto close = text.rfind(')');
    if (close == std::string::npos) return -1;
    char state = 0;
    int ppid = -1;
    if (std::sscanf(text.c_str() + close + 1, " %c %d", &state, &ppid) != 2) return -1;
    return ppid;
}

// A forked process that says "ready" on `ready` and then blocks reading `hold`.
pid_t fork_blocked(int ready, int hold) {
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        ::alarm(5);
        if (::write(ready, "r", 1) != 1) ::_exit(1);
        char c;
        ::_exit(::read(hold, &c, 1) == 1 ? 0 : 2);
    }
    return pid;
}

void expect_helper_ok(kit::ExitStatus st) {
    if (st.exited_with(kRefused))
        GTEST_SKIP()
            << "unshare(CLONE_NEWUSER|CLONE_NEWPID) or ns_last_pid refused here (a multithreaded "
               "process, as under ThreadSanitizer, may not enter a new user namespace)";
    EXPECT_TRUE(st.ok()) << "helper failed at step " << st.describe();
}

}  // namespace

// sigaction cannot install a handler or SIG_IGN for SIGKILL (EINVAL), and a
// process that blocks every signal and ignores all it can still dies by it.
TEST(SignalCrash, SigkillCannotBeCaughtBlockedOrIgnoredAndEndsAProcessThatBlocksEverything) {
    auto ready = kit::make_pipe(), never = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        struct sigaction sa {};
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        errno = 0;
        if (::sigaction(SIGKILL, &sa, nullptr) != -1 || errno != EINVAL) return 10;
        sa.sa_handler = count_signal;
        errno = 0;
        if (::sigaction(SIGKILL, &sa, nullptr) != -1 || errno != EINVAL) return 11;
        sa.sa_handler = SIG_IGN;
        for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &sa, nullptr);  // all it may
        sigset_t all;
        sigfillset(&all);
        kit::check(::sigprocmask(SIG_BLOCK, &all, nullptr), "sigprocmask");
        signal_gate(ready.write.get());  // step: everything refused, now blocked in read()
        char c;
        return ::read(never.read.get(), &c, 1) == 1 ? 0 : 12;  // alarm(5) bounds it
    });
    ASSERT_TRUE(pass_gate(ready.read.get())) << "the child failed before blocking";
    ASSERT_TRUE(kit::wait_until_blocked(child.pid(), "pipe_read"));
    const pid_t pid = child.pid();
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    auto st = child.wait();
    EXPECT_TRUE(st.killed_by(SIGKILL)) << st.describe();
    EXPECT_EQ(kit::process_state(pid), '?');  // reaped: nothing left of it
}

// A standard SIGUSR1 and three queued SIGRTMIN are pending (blocked) in a
// process that is then killed: once it is reaped nothing of them is left — the
// per-user count of queued signals (SigQ, what RLIMIT_SIGPENDING limits) is 0.
// The helper runs in a user namespace of its own so that count is its alone.
TEST(SignalCrash, PendingSignalsDieWithTheKilledProcessAndNothingStaysQueued) {
    auto helper = kit::spawn([] {
        if (::unshare(CLONE_NEWUSER) == -1) return kRefused;
        if (status_field("self", "SigQ").rfind("0/", 0) != 0) return 10;
        auto ready = kit::make_pipe(), hold = kit::make_pipe();
        const sigset_t both = set_of({SIGUSR1, SIGRTMIN});
        sigset_t old;
        kit::check(::sigprocmask(SIG_BLOCK, &both, &old), "sigprocmask");  // inherited by r
        const pid_t r = fork_blocked(ready.write.get(), hold.read.get());
        kit::check(::sigprocmask(SIG_SETMASK, &old, nullptr), "sigprocmask");
        if (!pass_gate(ready.read.get())) return 11;
        if (!kit::wait_until_blocked(r, "pipe_read")) return 12;
        kit::check(::kill(r, SIGUSR1), "kill");
        for (int i = 1; i <= 3; ++i)
            kit::check(::sigqueue(r, SIGRTMIN, sigval{.sival_int = i}), "sigqueue");
        const std::string rp = std::to_string(r);
        if (status_field(rp, "SigQ").rfind("4/", 0) != 0) return 13;  // 1 standard + 3 queued
        const auto pending = std::stoull(status_field(rp, "ShdPnd"), nullptr, 16);
        if (!(pending & (1ULL << (SIGUSR1 - 1))) || !(pending & (1ULL << (SIGRTMIN - 1))))
            return 14;
        kit::check(::kill(r, SIGKILL), "kill");  // the step: killed with four signals pending
        int ws = 0;
        kit::check(::waitpid(r, &ws, 0), "waitpid");
        if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL) return 15;
        if (status_field("self", "SigQ").rfind("0/", 0) != 0) return 16;  // nothing left queued
        errno = 0;
        if (::sigqueue(r, SIGRTMIN, sigval{.sival_int = 4}) != -1 || errno != ESRCH) return 17;
        return 0;
    });
    expect_helper_ok(helper.wait());
}

// A parent killed while its child runs: the child is not killed with it; it is
// reparented to the nearest subreaper (here the helper, PR_SET_CHILD_SUBREAPER),
// getppid() changes, and the subreaper reaps it with waitpid.
TEST(SignalCrash, ChildOfAKilledParentIsReparentedToTheSubreaperWhichReapsIt) {
    auto helper = kit::spawn([] {
        kit::check(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl");
        auto report = kit::make_pipe(), go = kit::make_pipe(), hold = kit::make_pipe();
        pid_t parent = kit::check(::fork(), "fork");
        if (parent == 0) {  // the middle process: starts the child, then blocks
            ::alarm(5);
            pid_t child = kit::check(::fork(), "fork");
            if (child == 0) {
                ::alarm(5);
                pid_t ids[2] = {::getpid(), ::getppid()};
                if (::write(report.write.get(), ids, sizeof ids) != sizeof ids) ::_exit(1);
                char c;
                if (::read(go.read.get(), &c, 1) != 1) ::_exit(2);  // runs on
                ids[1] = ::getppid();
                ::_exit(::write(report.write.get(), ids, sizeof ids) == sizeof ids ? 0 : 3);
            }
            char c;
            ::_exit(::read(hold.read.get(), &c, 1) == 1 ? 0 : 4);
        }
        pid_t ids[2];
        if (!kit::wait_readable(report.read.get()) ||
            ::read(report.read.get(), ids, sizeof ids) != sizeof ids)
            return 10;
        const pid_t child = ids[0];
        if (ids[1] != parent) return 11;
        if (!kit::wait_until_blocked(parent, "pipe_read")) return 12;
        kit::check(::kill(parent, SIGKILL), "kill");  // the step: the child is running
        int ws = 0;
        kit::check(::waitpid(parent, &ws, 0), "waitpid");
        if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL) return 13;
        if (::kill(child, 0) != 0) return 14;           // the child survived
        if (proc_ppid(child) != ::getpid()) return 15;  // the kernel's view
        signal_gate(go.write.get());
        if (!kit::wait_readable(report.read.get()) ||
            ::read(report.read.get(), ids, sizeof ids) != sizeof ids)
            return 16;
        if (ids[1] != ::getpid()) return 17;               // the child's view: getppid()
        if (::waitpid(child, &ws, 0) != child) return 18;  // the subreaper reaps it
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 19;
    });
    auto st = helper.wait();
    EXPECT_TRUE(st.ok()) << "helper failed at step " << st.describe();
}

// The opt-out: a child that asked for PR_SET_PDEATHSIG is sent that signal
// when its parent dies, so it does not outlive it (the subreaper reaps it).
TEST(SignalCrash, ChildWithPdeathsigDiesWhenItsParentIsKilled) {
    auto helper = kit::spawn([] {
        kit::check(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl");
        auto report = kit::make_pipe(), hold = kit::make_pipe();
        pid_t parent = kit::check(::fork(), "fork");
        if (parent == 0) {
            ::alarm(5);
            const pid_t me = ::getpid();
            pid_t child = kit::check(::fork(), "fork");
            if (child == 0) {
                ::alarm(5);
                if (::prctl(PR_SET_PDEATHSIG, SIGKILL) == -1) ::_exit(1);
                if (::getppid() != me) ::_exit(2);  // the parent died before the request
                const pid_t id = ::getpid();
                if (::write(report.write.get(), &id, sizeof id) != sizeof id) ::_exit(3);
                char c;
                ::_exit(::read(hold.read.get(), &c, 1) == 1 ? 0 : 4);
            }
            char c;
            ::_exit(::read(hold.read.get(), &c, 1) == 1 ? 0 : 5);
        }
        pid_t child = -1;
        if (!kit::wait_readable(report.read.get()) ||
            ::read(report.read.get(), &child, sizeof child) != sizeof child)
            return 10;
        if (!kit::wait_until_blocked(parent, "pipe_read")) return 11;
        kit::check(::kill(parent, SIGKILL), "kill");  // the step: the child is running
        int ws = 0;
        kit::check(::waitpid(parent, &ws, 0), "waitpid");
        if (!WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL) return 12;
        if (::waitpid(child, &ws, 0) != child) return 13;            // reparented here, then reaped
        return WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL ? 0 : 14;  // PR_SET_PDEATHSIG's signal
    });
    auto st = helper.wait();
    EXPECT_TRUE(st.ok()) << "helper failed at step " << st.describe();
}

// After SIGKILL and before waitpid the process is a zombie, and kill() still
// accepts a signal for it (returns 0, nothing happens); once reaped, the same
// pid gives ESRCH.
TEST(SignalCrash, KillOfAZombieReturnsZeroAndOfAReapedPidFailsWithEsrch) {
    auto ready = kit::make_pipe(), never = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        signal_gate(ready.write.get());
        char c;
        return ::read(never.read.get(), &c, 1) == 1 ? 0 : 10;  // alarm(5) bounds it
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_TRUE(kit::wait_until_blocked(child.pid(), "pipe_read"));
    const pid_t pid = child.pid();
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT), 0);  // dead, not reaped
    EXPECT_EQ(info.si_code, CLD_KILLED);
    EXPECT_EQ(kit::process_state(pid), 'Z');
    EXPECT_EQ(::kill(pid, SIGTERM), 0);  // a zombie accepts it
    EXPECT_EQ(::kill(pid, 0), 0);
    auto st = child.wait();
    EXPECT_TRUE(st.killed_by(SIGKILL)) << st.describe();
    errno = 0;
    EXPECT_EQ(::kill(pid, SIGTERM), -1);  // reaped (unless reused at once: very unlikely)
    EXPECT_EQ(errno, ESRCH);
}

// A pidfd names one process, not a number: in a PID namespace of our own the
// pid of a killed and reaped child is handed out again (ns_last_pid), and
// pidfd_send_signal on the old pidfd fails with ESRCH while kill() on the
// number reaches the newcomer.
TEST(SignalCrash, PidfdOfAKilledProcessFailsWithEsrchEvenWhenItsPidIsReused) {
    auto helper = kit::spawn([] {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWPID) == -1) return kRefused;
        pid_t init = kit::check(::fork(), "fork");  // pid 1 of the new namespace
        if (init == 0) {
            ::alarm(5);
            auto ready = kit::make_pipe(), hold = kit::make_pipe();
            const pid_t a = fork_blocked(ready.write.get(), hold.read.get());
            if (!pass_gate(ready.read.get())) ::_exit(20);
            const int pidfd = int(::syscall(SYS_pidfd_open, a, 0));
            if (pidfd == -1) ::_exit(errno == ENOSYS ? kRefused : 21);
            kit::check(::kill(a, SIGKILL), "kill");  // the step: blocked in read()
            int ws = 0;
            kit::check(::waitpid(a, &ws, 0), "waitpid");
            if (!WIFSIGNALED(ws)) ::_exit(22);
            kit::Fd last(::open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC));
            const std::string prev = std::to_string(a - 1);
            if (!last || ::write(last.get(), prev.data(), prev.size()) != ssize_t(prev.size()))
                ::_exit(kRefused);
            const pid_t b = fork_blocked(ready.write.get(), hold.read.get());
            if (b != a) ::_exit(23);  // the same number, another process
            if (!pass_gate(ready.read.get())) ::_exit(24);
            errno = 0;
            if (::syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, nullptr, 0) != -1) ::_exit(25);
            if (errno != ESRCH) ::_exit(26);
            if (::kill(b, 0) != 0) ::_exit(27);  // the number itself reaches the newcomer
            signal_gate(hold.write.get());
            kit::check(::waitpid(b, &ws, 0), "waitpid");
            ::_exit(WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 28);  // b was not signalled
        }
        int ws = 0;
        kit::check(::waitpid(init, &ws, 0), "waitpid");
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 29;
    });
    expect_helper_ok(helper.wait());
}
