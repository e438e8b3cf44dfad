// fifo_open_rules.cpp — where two processes meet at a FIFO: in open().
//   open(O_RDONLY)             blocks until some process opens it for writing
//   open(O_WRONLY)             blocks until some process opens it for reading
//   open(O_RDONLY|O_NONBLOCK)  succeeds at once, writer or not
//   open(O_WRONLY|O_NONBLOCK)  fails with ENXIO while there is no reader
// "Still blocked" is shown without sleeping: the child reports through a pipe
// the moment its open() returns, and the parent sees nothing for 300 ms.
//
// Run:    ./fifo_open_rules
// Prints: O_RDONLY|O_NONBLOCK, no writer: opened at once
//         O_WRONLY|O_NONBLOCK, no reader: ENXIO (No such device or address)
//         O_RDONLY: child still blocked in open() after 300 ms ... returned once we opened O_WRONLY
//         O_WRONLY: child still blocked in open() after 300 ms ... returned once we opened O_RDONLY
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

namespace {

bool readable_within(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    int n;
    while ((n = ::poll(&p, 1, ms)) == -1 && errno == EINTR) {
    }
    return kit::check(n, "poll") > 0;
}

// A child does a blocking open(child_flags); we watch it stay blocked until
// we open the other side with our_flags.
void show_blocking_open(const char* path, int child_flags, int our_flags, const char* label,
                        const char* other) {
    int done[2];
    kit::check(::pipe(done), "pipe");
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        ::close(done[0]);
        int fd = ::open(path, child_flags);  // blocks here
        if (fd == -1 || ::write(done[1], "o", 1) != 1) ::_exit(1);
        ::_exit(0);
    }
    kit::check(::close(done[1]), "close");
    const bool early = readable_within(done[0], 300);
    kit::Fd ours(kit::check(::open(path, our_flags), "open"));  // the other side arrives
    const bool after = readable_within(done[0], 5000);
    std::printf("%s: child %s after 300 ms ... %s once we opened %s\n", label,
                early ? "NOT blocked" : "still blocked in open()",
                after ? "returned" : "did NOT return", other);
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) throw kit::SysError(errno, "waitpid");
    }
    kit::check(::close(done[0]), "close");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        auto name = kit::unlink_guard(kit::unique_temp_path("rules.fifo"));
        kit::check(::mkfifo(name.c_str(), 0600), "mkfifo");

        {
            kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
            std::printf("O_RDONLY|O_NONBLOCK, no writer: opened at once\n");
        }
        int fd = ::open(name.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd != -1) throw kit::SysError(EEXIST, "open O_WRONLY|O_NONBLOCK succeeded");
        std::printf("O_WRONLY|O_NONBLOCK, no reader: %s (%s)\n", strerrorname_np(errno),
                    std::strerror(errno));

        show_blocking_open(name.c_str(), O_RDONLY, O_WRONLY, "O_RDONLY", "O_WRONLY");
        show_blocking_open(name.c_str(), O_WRONLY, O_RDONLY, "O_WRONLY", "O_RDONLY");
        return 0;
    });
}
