// rt_order.cpp — the order in which pending signals are taken: lowest number
// first, and within one real-time signal in the order sent (FIFO). The sender
// interleaves three real-time signals and ends with SIGUSR2; the receiver,
// which blocked them all, takes them one by one with sigwaitinfo().
//
// Run:    ./rt_order
// Prints: sent:     RTMIN+2:201 RTMIN+0:1 RTMIN+1:101 RTMIN+2:202 RTMIN+0:2 RTMIN+1:102 SIGUSR2
//         received: SIGUSR2 RTMIN+0:1 RTMIN+0:2 RTMIN+1:101 RTMIN+1:102 RTMIN+2:201 RTMIN+2:202
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"

namespace {

struct Send {
    int offset;  // SIGRTMIN + offset, or -1 for SIGUSR2
    int value;
};
constexpr std::array<Send, 7> kOrder{
    {{2, 201}, {0, 1}, {1, 101}, {2, 202}, {0, 2}, {1, 102}, {-1, 0}}};

void print(int offset, int value) {
    if (offset < 0)
        std::printf(" SIGUSR2");
    else
        std::printf(" RTMIN+%d:%d", offset, value);
}

int receiver(const sigset_t& set, int ready_fd, int go_fd) {
    kit::check(::write(ready_fd, "r", 1), "write");
    char c;
    ssize_t n;
    while ((n = ::read(go_fd, &c, 1)) == -1 && errno == EINTR) {
    }
    kit::check(n, "read");
    std::printf("received:");
    for (std::size_t i = 0; i < kOrder.size(); ++i) {
        siginfo_t info{};
        int sig =
            kit::check(::sigwaitinfo(&set, &info), "sigwaitinfo");  // blocked: takes, no handler
        print(sig == SIGUSR2 ? -1 : sig - SIGRTMIN, info.si_value.sival_int);
    }
    std::printf("\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        for (int off = 0; off < 3; ++off) sigaddset(&set, SIGRTMIN + off);
        // Blocked before fork, so the child inherits the mask: nothing is lost.
        kit::check(::sigprocmask(SIG_BLOCK, &set, nullptr), "sigprocmask");

        int ready[2], go[2];
        kit::check(::pipe(ready), "pipe");
        kit::check(::pipe(go), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::alarm(10);
            int rc = receiver(set, ready[1], go[0]);
            std::fflush(stdout);
            ::_exit(rc);
        }
        ::close(ready[1]);  // so that a receiver that dies early means EOF here, not a hang
        char c;
        if (kit::check(::read(ready[0], &c, 1), "read") != 1)
            throw kit::SysError(EPIPE, "receiver died");
        std::printf("sent:    ");
        for (const Send& s : kOrder) {
            if (s.offset < 0)
                kit::check(::kill(pid, SIGUSR2), "kill");
            else
                kit::check(::sigqueue(pid, SIGRTMIN + s.offset, sigval{.sival_int = s.value}),
                           "sigqueue");
            print(s.offset, s.value);
        }
        std::printf("\n");
        std::fflush(stdout);
        kit::check(::write(go[1], "g", 1), "write");
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    });
}
