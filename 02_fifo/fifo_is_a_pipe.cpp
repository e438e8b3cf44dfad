// fifo_is_a_pipe.cpp — a FIFO and a pipe are the same kernel object: a pipe
// buffer with a read side and a write side. The only difference is how you
// get a descriptor: pipe() hands you two; a FIFO has a name that open()
// finds. Both report S_ISFIFO, both answer F_GETPIPE_SZ with the same default
// capacity; /proc shows the pipe as "pipe:[inode]" and the FIFO as its path.
//
// Run:    ./fifo_is_a_pipe
// Prints: pipe: S_ISFIFO yes, F_GETPIPE_SZ 65536, fd -> pipe:[123456]
//         fifo: S_ISFIFO yes, F_GETPIPE_SZ 65536, fd -> /tmp/ipckit-...-same.fifo
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

namespace {

void describe(const char* label, int fd) {
    struct stat st {};
    kit::check(::fstat(fd, &st), "fstat");
    const int size = kit::check(::fcntl(fd, F_GETPIPE_SZ), "fcntl F_GETPIPE_SZ");
    char target[512] = {};
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    kit::check(::readlink(link.c_str(), target, sizeof target - 1), "readlink");
    std::printf("%s: S_ISFIFO %s, F_GETPIPE_SZ %d, fd -> %s\n", label,
                S_ISFIFO(st.st_mode) ? "yes" : "no", size, target);
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int fds[2];
        kit::check(::pipe(fds), "pipe");
        kit::Fd pr(fds[0]), pw(fds[1]);

        auto name = kit::unlink_guard(kit::unique_temp_path("same.fifo"));
        kit::check(::mkfifo(name.c_str(), 0600), "mkfifo");
        kit::Fd fr(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));

        describe("pipe", pr.get());
        describe("fifo", fr.get());
        return 0;
    });
}
