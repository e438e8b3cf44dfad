// socket_sigpipe — writing to a socket whose peer has gone raises SIGPIPE;
// send(..., MSG_NOSIGNAL) turns that into a plain EPIPE error.
//
// Run:    ./socket_sigpipe
// Prints: how a child that write()s to a closed peer ends (killed by signal 13),
//         then what send() with MSG_NOSIGNAL returns instead (-1, EPIPE).
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int sv[2];
        kit::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        kit::Fd mine(sv[0]), peer(sv[1]);
        peer.reset();  // the peer is gone: nobody will ever read what we send

        std::fflush(nullptr);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::signal(SIGPIPE, SIG_DFL);  // whatever we inherited, take the default: terminate
            ssize_t n = ::write(mine.get(), "x", 1);
            std::printf("child: write() returned %zd — SIGPIPE did not kill me\n", n);
            std::fflush(nullptr);
            ::_exit(0);
        }
        int ws = 0;
        kit::check(::waitpid(pid, &ws, 0), "waitpid");
        if (WIFSIGNALED(ws))
            std::printf("write():            child killed by signal %d (%s)\n", WTERMSIG(ws),
                        sigabbrev_np(WTERMSIG(ws)));
        else
            std::printf("write():            child exited %d\n", WEXITSTATUS(ws));

        ssize_t n = ::send(mine.get(), "x", 1, MSG_NOSIGNAL);
        int err = errno;
        std::printf("send(MSG_NOSIGNAL): returned %zd, errno %s — the process lives on\n", n,
                    n == -1 ? strerrorname_np(err) : "none");
        return 0;
    });
}
