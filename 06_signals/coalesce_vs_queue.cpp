// coalesce_vs_queue.cpp — a standard signal is a bit in the pending set, a
// real-time signal is an entry in a queue. The receiver blocks both; the
// sender (another process) sends SIGUSR1 five times with kill() and SIGRTMIN
// five times with sigqueue() and a payload; then the receiver unblocks.
//
// Run:    ./coalesce_vs_queue [count]          (count: 1..100, default 5)
// Prints: SIGUSR1  sent 5, handler ran 1 time
//         SIGRTMIN sent 5, handler ran 5 times, payloads 1 2 3 4 5
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

volatile sig_atomic_t g_usr1 = 0;
volatile sig_atomic_t g_rt = 0;
std::array<volatile sig_atomic_t, 100> g_payload{};  // written only by the handler

void on_usr1(int) { g_usr1 = g_usr1 + 1; }

void on_rt(int, siginfo_t* info, void*) {
    if (g_rt < static_cast<int>(g_payload.size())) g_payload[g_rt] = info->si_value.sival_int;
    g_rt = g_rt + 1;
}

char read_byte(int fd) {
    char c = 0;
    ssize_t n;
    while ((n = ::read(fd, &c, 1)) == -1 && errno == EINTR) {
    }
    if (kit::check(n, "read") != 1) throw kit::SysError(EPIPE, "peer vanished");
    return c;
}

int receiver(int ready_fd, int go_fd, int count) {
    struct sigaction sa {};
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    kit::check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction");
    sa.sa_flags = SA_SIGINFO;  // the three-argument handler that sees si_value
    sa.sa_sigaction = on_rt;
    kit::check(::sigaction(SIGRTMIN, &sa, nullptr), "sigaction");

    sigset_t both;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGRTMIN);
    kit::check(::sigprocmask(SIG_BLOCK, &both, nullptr), "sigprocmask");
    kit::check(::write(ready_fd, "r", 1), "write");
    read_byte(go_fd);  // the sender has finished sending

    kit::check(::sigprocmask(SIG_UNBLOCK, &both, nullptr), "sigprocmask");  // all delivered here
    std::printf("SIGUSR1  sent %d, handler ran %d time%s\n", count, int(g_usr1),
                g_usr1 == 1 ? "" : "s");
    std::printf("SIGRTMIN sent %d, handler ran %d time%s, payloads", count, int(g_rt),
                g_rt == 1 ? "" : "s");
    for (int i = 0; i < g_rt && i < static_cast<int>(g_payload.size()); ++i)
        std::printf(" %d", int(g_payload[i]));
    std::printf("\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[count]", [](auto args) {
        if (args.size() > 1) throw kit::UsageError{"at most one argument"};
        const int count = args.empty() ? 5 : int(kit::parse_long(args[0], 1, 100));
        int ready[2], go[2];
        kit::check(::pipe(ready), "pipe");
        kit::check(::pipe(go), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::alarm(10);
            int rc = receiver(ready[1], go[0], count);
            std::fflush(stdout);
            ::_exit(rc);
        }
        ::close(ready[1]);    // so that a receiver that dies early means EOF here, not a hang
        read_byte(ready[0]);  // the receiver has blocked both signals
        for (int i = 1; i <= count; ++i) {
            kit::check(::kill(pid, SIGUSR1), "kill");
            kit::check(::sigqueue(pid, SIGRTMIN, sigval{.sival_int = i}), "sigqueue");
        }
        kit::check(::write(go[1], "g", 1), "write");
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    });
}
