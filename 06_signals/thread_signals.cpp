// thread_signals.cpp — signals in a process with threads. The mask is per
// thread and a new thread inherits its creator's, so main blocks SIGUSR1 and
// SIGTERM before it creates any thread. One worker unblocks SIGUSR1: a
// SIGUSR1 sent to the process (kill, from another process) runs its handler in
// that thread, the only one not blocking it. SIGTERM stays blocked everywhere
// and one dedicated thread takes it with sigwaitinfo — the clean design: no
// handler, ordinary code.
//
// Run:    ./thread_signals
// Prints: threads: main <tid>, worker <tid> (unblocks SIGUSR1), waiter <tid> (sigwaitinfo)
//         SIGUSR1 sent to the process: handler ran in thread <tid>: the worker
//         SIGTERM sent to the process: waiter took it, from pid <pid> (the child)
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

pid_t this_thread() { return pid_t(::syscall(SYS_gettid)); }

int g_report = -1;  // write end of a pipe: the handler writes its thread id
void on_usr1(int) {
    const int saved = errno;
    const pid_t tid = this_thread();
    (void)!::write(g_report, &tid, sizeof tid);
    errno = saved;
}

sigset_t g_usr1, g_term;
int g_hold = -1;  // read end: the worker blocks on it until main is done
std::atomic<pid_t> g_worker{0}, g_waiter{0};  // set by each thread as it starts
pid_t g_from = 0;
int g_taken = 0;  // both written by the waiter before main joins it

void* worker(void*) {
    g_worker = this_thread();
    kit::check_err(::pthread_sigmask(SIG_UNBLOCK, &g_usr1, nullptr), "pthread_sigmask");
    char c;
    while (::read(g_hold, &c, 1) == -1 && errno == EINTR) {  // the handler interrupts it
    }
    return nullptr;
}

void* waiter(void*) {
    g_waiter = this_thread();
    siginfo_t info{};
    const timespec bound{10, 0};
    g_taken = ::sigtimedwait(&g_term, &info, &bound);  // synchronous: no handler
    g_from = info.si_pid;
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        sigemptyset(&g_usr1);
        sigaddset(&g_usr1, SIGUSR1);
        sigemptyset(&g_term);
        sigaddset(&g_term, SIGTERM);
        sigset_t both = g_usr1;
        sigaddset(&both, SIGTERM);
        kit::check(::sigprocmask(SIG_BLOCK, &both, nullptr), "sigprocmask");  // threads inherit

        int report[2], hold[2];
        kit::check(::pipe(report), "pipe");
        kit::check(::pipe(hold), "pipe");
        g_report = report[1];
        g_hold = hold[0];
        struct sigaction sa {};
        sa.sa_handler = on_usr1;
        sigemptyset(&sa.sa_mask);
        kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");

        pthread_t w, t;
        kit::check_err(::pthread_create(&w, nullptr, worker, nullptr), "pthread_create");
        kit::check_err(::pthread_create(&t, nullptr, waiter, nullptr), "pthread_create");
        while (g_worker == 0 || g_waiter == 0) ::sched_yield();  // both have started
        std::printf("threads: main %d, worker %d (unblocks SIGUSR1), waiter %d (sigwaitinfo)\n",
                    int(this_thread()), int(g_worker.load()), int(g_waiter.load()));
        std::fflush(stdout);

        const pid_t me = ::getpid();
        pid_t pid = kit::check(::fork(), "fork");  // another process signals this one
        if (pid == 0) ::_exit(::kill(me, SIGUSR1) == 0 && ::kill(me, SIGTERM) == 0 ? 0 : 1);
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");

        pid_t by = 0;
        ssize_t n;
        while ((n = ::read(report[0], &by, sizeof by)) == -1 && errno == EINTR) {
        }
        kit::check(n, "read");
        kit::check_err(::pthread_join(t, nullptr), "pthread_join");
        kit::check(::close(hold[1]), "close");  // lets the worker finish
        kit::check_err(::pthread_join(w, nullptr), "pthread_join");
        std::printf("SIGUSR1 sent to the process: handler ran in thread %d: %s\n", int(by),
                    by == g_worker ? "the worker" : "not the worker");
        std::printf("SIGTERM sent to the process: %s, from pid %d%s\n",
                    g_taken == SIGTERM ? "waiter took it" : "waiter timed out", int(g_from),
                    g_from == pid ? " (the child)" : "");
        return by == g_worker && g_taken == SIGTERM ? 0 : 1;
    });
}
