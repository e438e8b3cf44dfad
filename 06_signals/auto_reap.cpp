// auto_reap.cpp — a parent that never wants exit statuses can ask the kernel
// to reap its children: set SIGCHLD to SIG_IGN, or install a SIGCHLD handler
// with SA_NOCLDWAIT. Children then never become zombies, and waitpid() waits
// for them to end and fails with ECHILD (man 2 waitpid, NOTES).
//
// Run:    ./auto_reap ignore        ./auto_reap nocldwait
// Prints: ignore: waitpid(<pid>) = -1 ECHILD, /proc/<pid> gone: no zombie
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/proc.hpp"
#include "kit/check.hpp"

namespace {

void on_chld(int) {}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "ignore|nocldwait", [](auto args) {
        if (args.size() != 1 || (args[0] != "ignore" && args[0] != "nocldwait"))
            throw kit::UsageError{"say ignore or nocldwait"};
        struct sigaction sa{};
        sigemptyset(&sa.sa_mask);
        if (args[0] == "ignore") {
            sa.sa_handler = SIG_IGN;
        } else {
            sa.sa_handler = on_chld;
            sa.sa_flags = SA_NOCLDWAIT;
        }
        kit::check(::sigaction(SIGCHLD, &sa, nullptr), "sigaction");

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(0);
        int status = 0;
        pid_t r;
        while ((r = ::waitpid(pid, &status, 0)) == -1 && errno == EINTR) {
        }
        const int err = errno;
        std::printf("%.*s: waitpid(%d) = %d %s, /proc/%d %s\n", int(args[0].size()), args[0].data(),
                    int(pid), int(r), r == -1 ? ::strerrorname_np(err) : "(reaped by us)", int(pid),
                    kit::process_state(pid) == '?' ? "gone: no zombie" : "still there");
        return r == -1 && err == ECHILD ? 0 : 1;
    });
}
