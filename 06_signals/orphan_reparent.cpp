// orphan_reparent.cpp — an orphan (孤儿进程) is a process whose parent has
// died; it is not killed, it is reparented: to the nearest ancestor that made
// itself a subreaper (prctl(PR_SET_CHILD_SUBREAPER)), else to init of its PID
// namespace. Its getppid() changes, and the new parent reaps it. This program
// is the subreaper: it forks a middle process, which forks the child and
// exits; the child sees its new parent, exits, and is this program's zombie
// until waitpid — a zombie is a dead child not yet reaped, an orphan a live
// one that lost its parent.
//
// Run:    ./orphan_reparent
// Prints: child <pid>: parent <pid> (the middle process)
//         middle process <pid> exited; child's parent now <pid> (this subreaper: yes)
//         orphan exited: state Z, a zombie of the subreaper; waitpid reaped it, status 0
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "kit/proc.hpp"

namespace {

// Reads exactly one pid_t from fd (the writers are this program's processes).
pid_t read_pid(int fd) {
    pid_t v = 0;
    ssize_t n;
    while ((n = ::read(fd, &v, sizeof v)) == -1 && errno == EINTR) {
    }
    if (kit::check(n, "read") != sizeof v) throw kit::SysError(EPIPE, "read: a process died early");
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        kit::check(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl");  // orphans below come here
        int report[2], go[2], release[2];
        kit::check(::pipe(report), "pipe");
        kit::check(::pipe(go), "pipe");
        kit::check(::pipe(release), "pipe");
        std::fflush(stdout);
        const pid_t middle = kit::check(::fork(), "fork");
        if (middle == 0) {
            ::alarm(10);
            if (::fork() == 0) {  // the child: reports its parent before and after
                ::alarm(10);
                pid_t ids[2] = {::getpid(), ::getppid()};
                if (::write(report[1], ids, sizeof ids) != sizeof ids) ::_exit(1);
                char c;
                if (::read(go[0], &c, 1) != 1) ::_exit(2);  // the middle is gone by now
                const pid_t now = ::getppid();
                ::_exit(::write(report[1], &now, sizeof now) == sizeof now ? 0 : 3);
            }
            char c;  // the middle process exits once the child has reported, leaving an orphan
            ::_exit(::read(release[0], &c, 1) == 1 ? 0 : 4);
        }
        const pid_t child = read_pid(report[0]);
        const pid_t first = read_pid(report[0]);
        kit::check(::write(release[1], "r", 1), "write");  // now the middle may exit
        std::printf("child %d: parent %d (%s)\n", int(child), int(first),
                    first == middle ? "the middle process" : "?");
        int status = 0;
        kit::check(::waitpid(middle, &status, 0), "waitpid");  // the middle is reaped
        kit::check(::write(go[1], "g", 1), "write");
        const pid_t now = read_pid(report[0]);
        std::printf("middle process %d exited; child's parent now %d (this subreaper: %s)\n",
                    int(middle), int(now), now == ::getpid() ? "yes" : "no");
        siginfo_t info{};
        kit::check(::waitid(P_PID, id_t(child), &info, WEXITED | WNOWAIT), "waitid");  // kept
        const char state = kit::process_state(child);
        kit::check(::waitpid(child, &status, 0), "waitpid");
        std::printf(
            "orphan exited: state %c, a zombie of the subreaper; waitpid reaped it, "
            "status %d\n",
            state, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return now == ::getpid() && state == 'Z' ? 0 : 1;
    });
}
