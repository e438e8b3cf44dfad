// no_network_needed — a Unix-domain socket never touches a network device.
//
// Run:    ./no_network_needed          (needs a new network namespace: root does it
//                                        directly, an ordinary user inside a new
//                                        user namespace where the system allows one)
// Prints: inside a fresh network namespace — whose only interface, lo, is
//         down — a socketpair(AF_UNIX) still carries bytes, while a TCP
//         connect() to 127.0.0.1 fails with ENETUNREACH. Where neither is
//         allowed it prints "cannot show it here: <why>".
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "socket_addr.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        std::fflush(nullptr);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // only the child leaves the machine's network behind
            // An ordinary user may own a network namespace inside a user namespace.
            if (::unshare(CLONE_NEWNET) == -1 && ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1) {
                std::printf(
                    "cannot show it here: unshare(CLONE_NEWNET) and "
                    "unshare(CLONE_NEWUSER | CLONE_NEWNET) refused (%s)\n",
                    strerrorname_np(errno));
                std::fflush(nullptr);
                ::_exit(3);
            }
            std::ifstream dev("/proc/net/dev");
            std::string line, names;
            for (int i = 0; std::getline(dev, line); ++i)
                if (i >= 2) {
                    const auto start = line.find_first_not_of(' ');
                    names += ' ';
                    names += line.substr(start, line.find(':') - start);
                }
            std::printf("new network namespace, interfaces:%s (all down)\n", names.c_str());

            int sv[2];
            kit::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
            kit::Fd a(sv[0]), b(sv[1]);
            kit::write_all(a.get(), std::as_bytes(std::span("still works", 11)));
            char buf[16];
            ssize_t n = kit::check(::read(b.get(), buf, sizeof buf), "read");
            std::printf("socketpair(AF_UNIX): read \"%.*s\"\n", int(n), buf);

            const auto addr = ch07::inet4("127.0.0.1", 9);
            kit::Fd tcp(kit::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
            int rc = ::connect(tcp.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
            std::printf("TCP connect(127.0.0.1): %s\n",
                        rc == 0 ? "connected?!" : strerrorname_np(errno));
            std::fflush(nullptr);
            ::_exit(0);
        }
        int ws = 0;
        kit::check(::waitpid(pid, &ws, 0), "waitpid");
        const bool ok = WIFEXITED(ws) && (WEXITSTATUS(ws) == 0 || WEXITSTATUS(ws) == 3);
        return ok ? 0 : 1;
    });
}
