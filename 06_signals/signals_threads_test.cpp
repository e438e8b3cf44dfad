// Tests of chapter 06 (chapter06.Threads.*): signals in a process with several
// threads. Threads are the subject here, so each case runs in a forked child
// (the test process keeps its own mask and handlers); the child reports by
// exit code. A handler records which thread ran it with gettid().
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"
#include "signals_test_util.hpp"

using namespace ch06::test;

namespace {

pid_t this_thread() { return pid_t(::syscall(SYS_gettid)); }

int g_handled_by = -1;  // write end of a pipe: the handler writes its thread id there
void report_thread(int) {
    const int saved = errno;
    const pid_t tid = this_thread();
    (void)!::write(g_handled_by, &tid, sizeof tid);
    errno = saved;
}

// Reads one thread id from fd within the deadline; -1 if none came.
pid_t read_tid(int fd) {
    pid_t tid = -1;
    if (!kit::wait_readable(fd) || ::read(fd, &tid, sizeof tid) != sizeof tid) return -1;
    return tid;
}

// A thread that optionally unblocks `sig`, says its id on `ready`, then blocks
// reading `hold` until that pipe closes.
struct Parked {
    int ready, hold, unblock_sig;
};
void* park(void* arg) {
    const auto* p = static_cast<const Parked*>(arg);
    if (p->unblock_sig != 0) {
        const sigset_t s = set_of({p->unblock_sig});
        ::pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
    }
    const pid_t tid = this_thread();
    (void)!::write(p->ready, &tid, sizeof tid);
    char c;
    while (::read(p->hold, &c, 1) == -1 && errno == EINTR) {
    }
    return nullptr;
}

}  // namespace

// kill() names a process; the kernel picks one thread that does not block the
// signal. Here the main thread and two others block SIGUSR1, one does not.
TEST(Threads, ProcessDirectedSignalGoesToTheOneThreadThatDoesNotBlockIt) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    auto to_test = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        auto handled = kit::make_pipe(), ready = kit::make_pipe(), hold = kit::make_pipe();
        auto open_ready = kit::make_pipe();
        g_handled_by = handled.write.get();
        install(SIGUSR1, report_thread, SA_RESTART);
        const sigset_t usr1 = set_of({SIGUSR1});
        kit::check(::sigprocmask(SIG_BLOCK, &usr1, nullptr), "sigprocmask");  // inherited
        Parked blocking{ready.write.get(), hold.read.get(), 0};
        Parked open{open_ready.write.get(), hold.read.get(), SIGUSR1};
        pthread_t t[3];
        kit::check_err(::pthread_create(&t[0], nullptr, park, &blocking), "pthread_create");
        kit::check_err(::pthread_create(&t[1], nullptr, park, &open), "pthread_create");
        kit::check_err(::pthread_create(&t[2], nullptr, park, &blocking), "pthread_create");
        const pid_t b1 = read_tid(ready.read.get()), b2 = read_tid(ready.read.get());
        const pid_t unblocked = read_tid(open_ready.read.get());
        signal_gate(to_test.write.get());  // the test sends SIGUSR1 to this process now
        const pid_t by = read_tid(handled.read.get());
        int rc = 0;
        if (b1 <= 0 || b2 <= 0 || unblocked <= 0)
            rc = 10;
        else if (by != unblocked)
            rc = 11;  // handled by a thread that blocks it, or not at all
        hold.write.reset();
        for (auto& th : t) ::pthread_join(th, nullptr);
        return rc;
    });
    ASSERT_TRUE(pass_gate(to_test.read.get()));
    ASSERT_EQ(::kill(child.pid(), SIGUSR1), 0);  // to the process, not to a thread
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

// pthread_kill (in the process) and tgkill (from another process) name one
// thread: that thread runs the handler although no thread blocks SIGUSR2.
TEST(Threads, PthreadKillAndTgkillTargetOneThread) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    auto tid_pipe = kit::make_pipe();
    auto child = kit::spawn([&] {
        ::alarm(5);
        auto handled = kit::make_pipe(), ready = kit::make_pipe(), hold = kit::make_pipe();
        g_handled_by = handled.write.get();
        install(SIGUSR2, report_thread, SA_RESTART);
        Parked p{ready.write.get(), hold.read.get(), 0};
        pthread_t a, b;
        kit::check_err(::pthread_create(&a, nullptr, park, &p), "pthread_create");
        kit::check_err(::pthread_create(&b, nullptr, park, &p), "pthread_create");
        const pid_t first = read_tid(ready.read.get()), second = read_tid(ready.read.get());
        // Which of a/b is which id does not matter: ask b for its own id via the handler.
        kit::check_err(::pthread_kill(b, SIGUSR2), "pthread_kill");
        const pid_t by_b = read_tid(handled.read.get());
        int rc = (by_b == first || by_b == second) && by_b != this_thread() ? 0 : 10;
        const pid_t other = by_b == first ? second : first;          // thread a
        (void)!::write(tid_pipe.write.get(), &other, sizeof other);  // the test tgkills a
        if (read_tid(handled.read.get()) != other) rc = 11;
        hold.write.reset();
        ::pthread_join(a, nullptr);
        ::pthread_join(b, nullptr);
        return rc;
    });
    const pid_t tid = read_tid(tid_pipe.read.get());
    ASSERT_GT(tid, 0);
    ASSERT_EQ(::syscall(SYS_tgkill, child.pid(), tid, SIGUSR2), 0);
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

// The clean design: every thread blocks the signals (the mask is inherited),
// and one dedicated thread takes them with sigwaitinfo — no handler at all.
TEST(Threads, SigwaitinfoInADedicatedThreadTakesTheProcessSignal) {
    if (under_tsan()) GTEST_SKIP() << kTsanReason;
    auto ready = kit::make_pipe();
    const pid_t test = ::getpid();
    auto child = kit::spawn([&] {
        ::alarm(5);
        static sigset_t term;
        term = set_of({SIGTERM});
        kit::check(::sigprocmask(SIG_BLOCK, &term, nullptr), "sigprocmask");  // before any thread
        struct Result {
            int sig = 0;
            pid_t from = 0;
        } result;
        pthread_t waiter;
        kit::check_err(::pthread_create(
                           &waiter, nullptr,
                           [](void* arg) -> void* {
                               siginfo_t info{};
                               const timespec bound{5, 0};
                               auto* r = static_cast<Result*>(arg);
                               r->sig = ::sigtimedwait(&term, &info, &bound);
                               r->from = info.si_pid;
                               return nullptr;
                           },
                           &result),
                       "pthread_create");
        signal_gate(ready.write.get());
        ::pthread_join(waiter, nullptr);
        if (result.sig != SIGTERM) return 10;
        return result.from == test ? 0 : 11;
    });
    ASSERT_TRUE(pass_gate(ready.read.get()));
    ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);  // would kill the process if not taken
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}

// A new thread starts with its creator's mask; after that each thread's mask
// is its own.
TEST(Threads, NewThreadInheritsTheCreatorsMask) {
    auto child = kit::spawn([] {
        const sigset_t usr1 = set_of({SIGUSR1});
        kit::check(::sigprocmask(SIG_BLOCK, &usr1, nullptr), "sigprocmask");
        int inherited = -1;
        pthread_t t;
        kit::check_err(::pthread_create(
                           &t, nullptr,
                           [](void* arg) -> void* {
                               sigset_t now;
                               ::pthread_sigmask(SIG_BLOCK, nullptr, &now);
                               *static_cast<int*>(arg) = sigismember(&now, SIGUSR1);
                               const sigset_t s = set_of({SIGUSR1});
                               ::pthread_sigmask(SIG_UNBLOCK, &s,
                                                 nullptr);  // changes this thread only
                               return nullptr;
                           },
                           &inherited),
                       "pthread_create");
        ::pthread_join(t, nullptr);
        if (inherited != 1) return 10;
        sigset_t mine;
        kit::check(::sigprocmask(SIG_BLOCK, nullptr, &mine), "sigprocmask");
        return sigismember(&mine, SIGUSR1) == 1 ? 0 : 11;
    });
    auto st = child.wait();
    EXPECT_TRUE(st.ok()) << st.describe();
}
