// lock_close_any_fd.cpp — the trap of POSIX record locks (fcntl F_SETLK): they
// belong to the process, and the process loses them when it closes ANY
// descriptor of the file — say, a library that opened the same file to read
// it. Open file description locks (F_OFD_SETLK) belong to the description
// and survive. A child, another process, asks F_GETLK who holds the file.
//
// The file is an O_TMPFILE file: it has no name, so nothing is left behind,
// whatever stops the program. /proc/self/fd/N opens it again (a new
// description of the same file).
//
// Run:    ./lock_close_any_fd
// Prints: "F_SETLK on fd 1, close(fd 2):     another process sees F_UNLCK (lock lost)"
//         "F_OFD_SETLK on fd 1, close(fd 2): another process sees F_WRLCK (lock kept)"
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "sem_shared.hpp"

namespace {

// A new open file description of the file behind `fd`.
int reopen(int fd) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    return kit::check(::open(path.c_str(), O_RDWR), "open");
}

// What a process other than this one learns from F_GETLK about the file.
const char* seen_by_another_process(int fd) {
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        struct flock fl {};
        fl.l_type = F_WRLCK;  // "could I write-lock the whole file?"
        fl.l_whence = SEEK_SET;
        const int mine = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDWR);
        if (mine == -1 || ::fcntl(mine, F_GETLK, &fl) == -1) ::_exit(2);
        ::_exit(fl.l_type == F_UNLCK ? 0 : 1);
    }
    const int status = ch04::reap(pid);
    return status == 0 ? "F_UNLCK (lock lost)" : status == 1 ? "F_WRLCK (lock kept)" : "an error";
}

// Locks the whole file through fd1 with `cmd`, closes fd2, reports.
const char* lock_then_close_other(int file, int cmd) {
    const int fd1 = reopen(file), fd2 = reopen(file);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;  // l_start 0, l_len 0: the whole file
    kit::check(::fcntl(fd1, cmd, &fl), "fcntl");
    kit::check(::close(fd2), "close");  // fd2 never asked for any lock
    const char* seen = seen_by_another_process(file);
    kit::check(::close(fd1), "close");
    return seen;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const int file = kit::check(::open(kit::temp_dir().c_str(), O_TMPFILE | O_RDWR, 0600),
                                    "open(O_TMPFILE)");
        std::printf("F_SETLK on fd 1, close(fd 2):     another process sees %s\n",
                    lock_then_close_other(file, F_SETLK));
        std::printf("F_OFD_SETLK on fd 1, close(fd 2): another process sees %s\n",
                    lock_then_close_other(file, F_OFD_SETLK));
        kit::check(::close(file), "close");
        return 0;
    });
}
