// peer_credentials — SO_PEERCRED: the kernel tells a server who connected.
//
// Run:    ./peer_credentials
// Prints: the pid/uid/gid the kernel reports for the connecting process, next to
//         what that process says about itself. Where it may (root with
//         CAP_SETUID and CAP_SETGID) the child first switches to uid/gid 65534
//         (nobody), so the uids differ from ours: the credentials are the
//         peer's, taken by the kernel at connect().
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "socket_addr.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        // An abstract name: no file, so no file permissions stop an unprivileged peer.
        const auto addr = ch07::unix_abstract(kit::unique_name("peercred"));
        kit::Fd listener(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::bind(listener.get(), addr.get(), addr.len), "bind");
        kit::check(::listen(listener.get(), 1), "listen");
        std::printf("server: pid=%d uid=%d gid=%d\n", int(::getpid()), int(::getuid()),
                    int(::getgid()));

        std::fflush(nullptr);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            // Drop privileges so the peer is visibly someone else (uid 0 alone
            // is not enough: a container's root may lack CAP_SETUID).
            if (kit::has_capability(CAP_SETUID) && kit::has_capability(CAP_SETGID)) {
                kit::check(::setgid(65534), "setgid");
                kit::check(::setuid(65534), "setuid");
            }
            kit::Fd c(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
            kit::check(::connect(c.get(), addr.get(), addr.len), "connect");
            std::string me = "pid=" + std::to_string(::getpid()) +
                             " uid=" + std::to_string(::getuid()) +
                             " gid=" + std::to_string(::getgid());
            kit::write_all(c.get(), std::as_bytes(std::span(me)));
            ::_exit(0);
        }

        kit::Fd conn(
            kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
        ucred cred{};
        socklen_t len = sizeof cred;
        kit::check(::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len), "getsockopt");
        char buf[128];
        std::size_t n = kit::read_full(conn.get(), std::as_writable_bytes(std::span(buf)));
        int ws = 0;
        kit::check(::waitpid(pid, &ws, 0), "waitpid");
        std::printf("SO_PEERCRED: pid=%d uid=%d gid=%d\n", int(cred.pid), int(cred.uid),
                    int(cred.gid));
        std::printf("peer says:   %.*s\n", int(n), buf);
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
    });
}
