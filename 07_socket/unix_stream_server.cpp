// unix_stream_server — a Unix-domain stream server bound to a filesystem path.
//
// Run:    ./unix_stream_server [PATH [CLIENTS]]
//         then, in another terminal: ./unix_stream_client PATH hi
//         Without PATH it picks a unique one under $TMPDIR (or /tmp) and prints it.
// Prints: "listening on PATH", then for each client the bytes it echoed back in
//         upper case; after CLIENTS clients (default 1) it removes PATH and exits.
//         If PATH exists it is removed only when it is a socket nobody listens on
//         (a crashed server's leftover); a live server's socket, a regular file or
//         anything else at PATH is refused (exit 1) and left as it was.
//         SIGINT or SIGTERM: it removes PATH and exits 0. SIGKILL cannot be
//         caught: the socket file stays behind, and the next start replaces it.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "socket_addr.hpp"

namespace {

volatile sig_atomic_t stop_signal = 0;
void on_stop(int sig) { stop_signal = sig; }

// bind() fails with EADDRINUSE while anything exists at the path. Remove it only
// if it is provably a stale socket: a socket file (lstat, not following a
// symlink) that refuses connections. Anything else is not ours to delete.
void bind_replacing_stale(int fd, const ch07::UnixAddress& addr, const std::string& path) {
    if (::bind(fd, addr.get(), addr.len) == 0) return;
    if (errno != EADDRINUSE) throw kit::SysError(errno, "bind");
    struct stat st {};
    kit::check(::lstat(path.c_str(), &st), "lstat");
    if (!S_ISSOCK(st.st_mode))
        throw kit::SysError(EEXIST, "bind: " + path + " is not a socket, refusing to remove it");
    kit::Fd probe(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    if (::connect(probe.get(), addr.get(), addr.len) == 0)
        throw kit::SysError(EADDRINUSE, "bind: a live server listens on " + path);
    if (errno != ECONNREFUSED) throw kit::SysError(errno, "connect (probe)");
    std::printf("bind: EADDRINUSE, but nobody listens (ECONNREFUSED): stale socket, unlinking\n");
    kit::check(::unlink(path.c_str()), "unlink");
    kit::check(::bind(fd, addr.get(), addr.len), "bind");
}

// Waits until fd is readable; false once SIGINT/SIGTERM arrived. The signals
// are blocked except inside ppoll(), so one cannot slip in before the wait.
bool wait_or_stop(int fd, const sigset_t& unblocked) {
    for (;;) {
        if (stop_signal) return false;
        pollfd p{fd, POLLIN, 0};
        int n = ::ppoll(&p, 1, nullptr, &unblocked);
        if (n == -1 && errno == EINTR) continue;
        kit::check(n, "ppoll");
        return true;
    }
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[PATH [CLIENTS]]", [](auto args) {
        if (args.size() > 2) throw kit::unexpected(args[2]);
        const std::string path =
            args.size() >= 1 ? std::string(args[0]) : kit::unique_temp_path("echo.sock");
        const long clients = args.size() >= 2 ? kit::parse_long(args[1], 1, 1000) : 1;
        const auto addr = ch07::unix_path(path);

        sigset_t stops, unblocked;
        sigemptyset(&stops);
        sigaddset(&stops, SIGINT);
        sigaddset(&stops, SIGTERM);
        kit::check(::sigprocmask(SIG_BLOCK, &stops, &unblocked), "sigprocmask");
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        kit::check(::sigaction(SIGINT, &sa, nullptr), "sigaction");
        kit::check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");
        ::signal(SIGPIPE, SIG_IGN);  // a client that left early is an EPIPE error, not our death

        kit::Fd listener(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        bind_replacing_stale(listener.get(), addr, path);
        // The file now exists; it outlives the socket unless someone unlinks it.
        auto remove_path = kit::unlink_guard(path);
        kit::check(::listen(listener.get(), 16), "listen");
        std::printf("listening on %s\n", path.c_str());
        std::fflush(stdout);  // whoever waits for this line may start a client now

        long served = 0;
        while (served < clients && wait_or_stop(listener.get(), unblocked)) {
            kit::Fd conn(
                kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
            std::size_t total = 0;
            char buf[4096];
            while (wait_or_stop(conn.get(), unblocked)) {
                ssize_t n = kit::check(::read(conn.get(), buf, sizeof buf), "read");
                if (n == 0) break;  // the client shut down its sending side
                for (ssize_t i = 0; i < n; ++i)
                    buf[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buf[i])));
                kit::write_all(conn.get(),
                               std::as_bytes(std::span(buf, static_cast<std::size_t>(n))));
                total += static_cast<std::size_t>(n);
            }
            if (stop_signal) break;
            std::printf("client %ld: echoed %zu bytes\n", ++served, total);
        }
        kit::check(::unlink(path.c_str()), "unlink");
        remove_path.dismiss();
        if (stop_signal) std::printf("stopped by SIG%s, ", sigabbrev_np(stop_signal));
        std::printf("served %ld client(s), removed %s\n", served, path.c_str());
        return 0;
    });
}
