// auto_reap.cpp — a parent that never wants exit statuses can ask the kernel
// to reap its children: set SIGCHLD to SIG_IGN, or install a SIGCHLD handler
// with SA_NOCLDWAIT. Children then never become zombies, and waitpid() waits
// for them to end and fails with ECHILD (man 2 wait, NOTES). The child exits
// only once the parent is blocked inside waitpid (/proc/<ppid>/syscall), so a
// waitpid that failed at once instead of waiting would find it still running.
//
// Run:    ./auto_reap ignore        ./auto_reap nocldwait
// Prints: ignore: waitpid(<pid>) waited, then = -1 ECHILD; child state now ?: no zombie
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

namespace {

void on_chld(int) {}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "ignore|nocldwait", [](auto args) {
        if (args.size() != 1 || (args[0] != "ignore" && args[0] != "nocldwait"))
            throw kit::UsageError{"say ignore or nocldwait"};
        struct sigaction sa {};
        sigemptyset(&sa.sa_mask);
        if (args[0] == "ignore") {
            sa.sa_handler = SIG_IGN;
        } else {
            sa.sa_handler = on_chld;
            sa.sa_flags = SA_NOCLDWAIT;
        }
        kit::check(::sigaction(SIGCHLD, &sa, nullptr), "sigaction");

        const pid_t parent = ::getpid();
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(kit::wait_in_syscall(parent, SYS_wait4) ? 0 : 1);
        int status = 0;
        pid_t r;
        while ((r = ::waitpid(pid, &status, 0)) == -1 && errno == EINTR) {
        }
        const int err = errno;
        // '?' gone, or 'X' for the instant the kernel is still freeing it; never 'Z'.
        const char state = kit::process_state(pid);
        std::printf("%.*s: waitpid(%d) waited, then = %d %s; child state now %c: %s\n",
                    int(args[0].size()), args[0].data(), int(pid), int(r),
                    r == -1 ? ::strerrorname_np(err) : "(reaped by us)", state,
                    state == '?' || state == 'X' ? "no zombie" : "NOT reaped");
        return r == -1 && err == ECHILD && (state == '?' || state == 'X') ? 0 : 1;
    });
}
