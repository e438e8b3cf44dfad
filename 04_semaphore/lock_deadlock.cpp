// lock_deadlock.cpp — the kernel detects a deadlock between POSIX record
// locks. The parent locks byte 0, the child byte 1; the child then sleeps in
// F_SETLKW waiting for byte 0. When the parent asks (F_SETLKW) for byte 1 the
// cycle would close, and the kernel refuses at once with EDEADLK instead of
// putting it to sleep for ever. The parent gives up byte 0; the child gets it.
//
// Run:    ./lock_deadlock
// Prints: "child holds byte 1 and sleeps in F_SETLKW for byte 0"
//         "parent's F_SETLKW for byte 1 -> EDEADLK"
//         "parent released byte 0: the child got it"
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit/wait.hpp"
#include "sem_shared.hpp"

namespace {

// fcntl(fd, cmd) on the one byte at `at`: 0 or the errno.
int lock_byte(int fd, int cmd, short type, off_t at) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = at;
    fl.l_len = 1;
    return ::fcntl(fd, cmd, &fl) == 0 ? 0 : errno;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        // A file without a name (O_TMPFILE): nothing to leave behind.
        const int fd = kit::check(::open(kit::temp_dir().c_str(), O_TMPFILE | O_RDWR, 0600),
                                  "open(O_TMPFILE)");
        kit::check_err(lock_byte(fd, F_SETLK, F_WRLCK, 0), "fcntl(F_SETLK, byte 0)");
        int ready[2];
        kit::check(::pipe(ready), "pipe");
        std::fflush(stdout);
        pid_t child = kit::check(::fork(), "fork");
        if (child == 0) {  // the inherited fd, but POSIX locks are per process
            ::alarm(10);
            if (lock_byte(fd, F_SETLK, F_WRLCK, 1) != 0 || ::write(ready[1], "1", 1) != 1)
                ::_exit(1);
            ::_exit(lock_byte(fd, F_SETLKW, F_WRLCK, 0) == 0 ? 0 : 2);
        }
        char c = 0;
        while (::read(ready[0], &c, 1) == -1)
            if (errno != EINTR) throw kit::SysError(errno, "read");
        if (!kit::wait_in_syscall(child, SYS_fcntl))
            throw kit::SysError(ETIMEDOUT, "waiting for the child to sleep in fcntl");
        std::printf("child holds byte 1 and sleeps in F_SETLKW for byte 0\n");

        const int err = lock_byte(fd, F_SETLKW, F_WRLCK, 1);
        std::printf("parent's F_SETLKW for byte 1 -> %s\n", err == 0 ? "0" : strerrorname_np(err));
        kit::check_err(lock_byte(fd, F_SETLK, F_UNLCK, 0), "fcntl(F_UNLCK, byte 0)");
        const int status = ch04::reap(child);
        std::printf("parent released byte 0: %s\n",
                    status == 0 ? "the child got it" : "the child failed");
        for (int f : {ready[0], ready[1], fd}) kit::check(::close(f), "close");
        return err == EDEADLK && status == 0 ? 0 : 1;
    });
}
