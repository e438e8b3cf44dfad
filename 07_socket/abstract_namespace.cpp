// abstract_namespace — a Linux abstract socket name: no file, gone with the socket.
//
// Run:    ./abstract_namespace
// Prints: the abstract name it bound ("@ipckit-..."), the line for it in
//         /proc/net/unix (where `ss -xl` reads it), proof that no file of that
//         name exists, a message from a child that connected by name, and that
//         the name is free again as soon as the socket is closed — no unlink().
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const std::string name = kit::unique_name("abstract");
        // The abstract trick: sun_path starts with a NUL byte, and the name is
        // exactly the bytes the length covers — no terminating NUL, no file.
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path + 1, name.data(), name.size());  // sun_path[0] stays '\0'
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
        const auto* addr = reinterpret_cast<const sockaddr*>(&sun);

        kit::Fd listener(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::bind(listener.get(), addr, len), "bind");
        kit::check(::listen(listener.get(), 1), "listen");
        std::printf("bound @%s\n", name.c_str());

        std::ifstream proc("/proc/net/unix");
        for (std::string line; std::getline(proc, line);)
            if (line.find("@" + name) != std::string::npos)
                std::printf("/proc/net/unix: %s\n", line.c_str());

        struct stat st {};
        for (std::string path : {"/" + name, kit::temp_dir() + "/" + name, name}) {
            int rc = ::stat(path.c_str(), &st);
            std::printf("stat(\"%s\") -> %s\n", path.c_str(),
                        rc == 0 ? "exists (unexpected)" : strerrorname_np(errno));
        }

        std::fflush(nullptr);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            kit::Fd c(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
            kit::check(::connect(c.get(), addr, len), "connect");
            std::string msg = "child " + std::to_string(::getpid()) + " connected by name";
            kit::write_all(c.get(), std::as_bytes(std::span(msg)));
            ::_exit(0);
        }
        kit::Fd conn(
            kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
        char buf[128];
        std::size_t n = kit::read_full(conn.get(), std::as_writable_bytes(std::span(buf)));
        int ws = 0;
        kit::check(::waitpid(pid, &ws, 0), "waitpid");
        std::printf("received: \"%.*s\"\n", int(n), buf);

        // The name belongs to the socket, not to a file: closing frees it.
        conn.reset();
        listener.reset();
        kit::Fd again(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::bind(again.get(), addr, len), "bind (second time)");
        std::printf("closed, bound the same name again without unlink(): ok\n");
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
    });
}
