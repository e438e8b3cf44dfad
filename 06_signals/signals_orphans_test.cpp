// Tests of chapter 06 (chapter06.Orphans.*, chapter06.PidNamespace.*): what
// happens to a child whose parent exits, and what a PID namespace hides. Each
// case runs in a forked helper (a subreaper, or the init of a new PID
// namespace) so the test process keeps its own state; helpers report by exit
// code, 77 when the machine refuses a namespace.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "signals_test_util.hpp"

using namespace ch06::test;
using kit::test::program_path;
using kit::test::run_program;

namespace {

constexpr int kRefused = 77;

// Forks a middle process that forks a child, then exits when a byte arrives
// on `release`. The child writes {its pid, getppid()} to `report`, waits for a
// byte on `go`, then writes getppid() again and exits 0.
pid_t fork_orphan_maker(int report, int go, int release) {
    pid_t middle = kit::check(::fork(), "fork");
    if (middle == 0) {
        ::alarm(5);
        if (::fork() == 0) {
            ::alarm(5);
            pid_t ids[2] = {::getpid(), ::getppid()};
            if (::write(report, ids, sizeof ids) != sizeof ids) ::_exit(1);
            char c;
            if (::read(go, &c, 1) != 1) ::_exit(2);
            const pid_t now = ::getppid();
            ::_exit(::write(report, &now, sizeof now) == sizeof now ? 0 : 3);
        }
        char c;
        ::_exit(::read(release, &c, 1) == 1 ? 0 : 4);
    }
    return middle;
}

template <std::size_t N>
bool read_pids(int fd, pid_t (&v)[N]) {
    return kit::wait_readable(fd) && ::read(fd, v, sizeof v) == ssize_t(sizeof v);
}

}  // namespace

// The parent exits on its own: the orphan is reparented to the nearest
// subreaper, its getppid() changes, and when it exits it is that subreaper's
// zombie until the subreaper reaps it.
TEST(Orphans, OrphanIsReparentedToTheNearestSubreaperWhichReapsIt) {
    auto helper = kit::spawn([] {
        kit::check(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl");
        auto report = kit::make_pipe(), go = kit::make_pipe(), release = kit::make_pipe();
        const pid_t middle =
            fork_orphan_maker(report.write.get(), go.read.get(), release.read.get());
        pid_t ids[2];
        if (!read_pids(report.read.get(), ids)) return 10;
        if (ids[1] != middle) return 11;
        signal_gate(release.write.get());  // the parent exits now
        int ws = 0;
        kit::check(::waitpid(middle, &ws, 0), "waitpid");  // the parent is gone
        signal_gate(go.write.get());
        pid_t now[1];
        if (!read_pids(report.read.get(), now)) return 12;
        if (now[0] != ::getpid()) return 13;  // getppid() is the subreaper now
        siginfo_t info{};
        kit::check(::waitid(P_PID, id_t(ids[0]), &info, WEXITED | WNOWAIT), "waitid");
        if (kit::process_state(ids[0]) != 'Z') return 14;  // dead, the subreaper's zombie
        if (::waitpid(ids[0], &ws, 0) != ids[0]) return 15;
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 16;
    });
    auto st = helper.wait();
    EXPECT_TRUE(st.ok()) << "helper failed at step " << st.describe();
    auto r = run_program({program_path("orphan_reparent")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    EXPECT_NE(r.out.find("(this subreaper: yes)"), std::string::npos) << r.out;
}

// Without a subreaper the orphan goes to init of its PID namespace: pid 1.
// In a namespace of our own, pid 1 is our helper, which then reaps it.
TEST(Orphans, WithoutASubreaperAnOrphanGoesToInitOfItsPidNamespace) {
    auto helper = kit::spawn([] {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWPID) == -1) return kRefused;
        pid_t init = kit::check(::fork(), "fork");
        if (init == 0) {
            ::alarm(5);
            if (::getpid() != 1) ::_exit(20);
            auto report = kit::make_pipe(), go = kit::make_pipe(), release = kit::make_pipe();
            const pid_t middle =
                fork_orphan_maker(report.write.get(), go.read.get(), release.read.get());
            pid_t ids[2];
            if (!read_pids(report.read.get(), ids) || ids[1] != middle) ::_exit(21);
            signal_gate(release.write.get());
            int ws = 0;
            kit::check(::waitpid(middle, &ws, 0), "waitpid");
            signal_gate(go.write.get());
            pid_t now[1];
            if (!read_pids(report.read.get(), now)) ::_exit(22);
            if (now[0] != 1) ::_exit(23);  // reparented to init: getppid() == 1
            if (::waitpid(ids[0], &ws, 0) != ids[0]) ::_exit(24);  // init reaps it
            ::_exit(WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 25);
        }
        int ws = 0;
        kit::check(::waitpid(init, &ws, 0), "waitpid");
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 26;
    });
    auto st = helper.wait();
    if (st.exited_with(kRefused))
        GTEST_SKIP() << "unshare(CLONE_NEWUSER|CLONE_NEWPID) refused here (a multithreaded "
                        "process, as under ThreadSanitizer, may not enter a new user namespace)";
    EXPECT_TRUE(st.ok()) << "helper failed at step " << st.describe();
}

// Inside a new PID namespace a process outside it has no pid at all: its
// parent shows as 0, and kill() on the outer pid number fails with ESRCH. The
// outside still sees, and may signal, the inside by its outer pid.
TEST(PidNamespace, ProcessOutsideTheNamespaceHasNoPidSoKillFailsWithEsrch) {
    auto helper = kit::spawn([] {
        const pid_t outer = ::getpid();
        if (::unshare(CLONE_NEWUSER | CLONE_NEWPID) == -1) return kRefused;
        auto ready = kit::make_pipe(), hold = kit::make_pipe();
        pid_t init = kit::check(::fork(), "fork");
        if (init == 0) {
            ::alarm(5);
            if (::getpid() != 1) ::_exit(20);
            if (::getppid() != 0) ::_exit(21);  // the parent is outside: no number here
            errno = 0;
            if (::kill(outer, 0) != -1 || errno != ESRCH) ::_exit(22);
            errno = 0;
            if (::kill(outer, SIGTERM) != -1 || errno != ESRCH) ::_exit(23);
            signal_gate(ready.write.get());
            char c;
            ::_exit(::read(hold.read.get(), &c, 1) == 1 ? 0 : 24);
        }
        if (!pass_gate(ready.read.get())) return 25;
        if (init == 1 || ::kill(init, 0) != 0) return 26;  // the outer pid reaches it
        signal_gate(hold.write.get());
        int ws = 0;
        kit::check(::waitpid(init, &ws, 0), "waitpid");
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 27;
    });
    auto st = helper.wait();
    if (st.exited_with(kRefused))
        GTEST_SKIP() << "unshare(CLONE_NEWUSER|CLONE_NEWPID) refused here (a multithreaded "
                        "process, as under ThreadSanitizer, may not enter a new user namespace)";
    EXPECT_TRUE(st.ok()) << "helper failed at step " << st.describe();
}

// Why the namespace cases skip under ThreadSanitizer (it runs a thread of its
// own): a process with more than one thread may not enter a new user
// namespace, unshare fails with EINVAL.
TEST(PidNamespace, UnshareOfAUserNamespaceFailsWithEinvalInAMultithreadedProcess) {
    auto child = kit::spawn([] {
        auto hold = kit::make_pipe();
        const int fd = hold.read.get();
        std::thread t([fd] {
            char c;
            (void)!::read(fd, &c, 1);  // parked until the pipe closes
        });
        errno = 0;
        const int rc = ::unshare(CLONE_NEWUSER);
        const int err = errno;
        hold.write.reset();
        t.join();
        return rc == -1 && err == EINVAL ? 0 : 10;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << "unshare(CLONE_NEWUSER) with two threads: " << st.describe();
}
