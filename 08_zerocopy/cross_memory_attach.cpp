// cross_memory_attach.cpp — process_vm_readv() and process_vm_writev() ("cross
// memory attach", CMA): one process copies straight out of, and into, another's
// address space, in one system call and one copy, with no shared mapping and no
// pipe. The child tells the parent where its buffer is (through a pipe, as an
// unrelated peer would have to), then waits; the parent reads the buffer and
// writes a reply into it. Allowed only if the caller may ptrace the target.
// Where the call is refused (a seccomp filter, a Yama setting), the program
// prints "cannot show it here: <reason>" and exits 0.
//
// Run:    ./cross_memory_attach
// Prints: what the child holds, what the parent read, and what the child holds after.
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"

struct Where {  // what the child tells the parent
    char* addr;
    std::size_t len;
};

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int where[2], go[2];
        kit::check(::pipe(where), "pipe");
        kit::check(::pipe(go), "pipe");
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            char note[64] = "a note in the child's memory";
            std::printf("child holds \"%s\"\n", note);
            std::fflush(stdout);
            Where w{note, sizeof note};
            kit::write_all(where[1], std::as_bytes(std::span(&w, 1)));
            char c;
            (void)kit::read_full(go[0], std::as_writable_bytes(std::span(&c, 1)));  // until done
            std::printf("child now holds \"%s\"\n", note);  // it never wrote it itself
            std::fflush(stdout);
            ::_exit(0);
        }
        Where w{};
        if (kit::read_full(where[0], std::as_writable_bytes(std::span(&w, 1))) != sizeof w)
            throw kit::SysError(EIO, "read");

        char got[64] = {};
        iovec local{got, sizeof got}, remote{w.addr, w.len};
        ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);  // one copy
        if (n == -1 && (errno == ENOSYS || errno == EPERM)) {
            std::printf("cannot show it here: process_vm_readv: %s\n", std::strerror(errno));
        } else {
            kit::check(n, "process_vm_readv");
            std::printf("parent read %zd bytes from the child: \"%s\"\n", n, got);
            char reply[] = "a reply written by the parent";
            iovec from{reply, sizeof reply}, into{w.addr, sizeof reply};
            n = kit::check(::process_vm_writev(pid, &from, 1, &into, 1, 0), "process_vm_writev");
            std::printf("parent wrote %zd bytes into the child\n", n);
        }
        std::fflush(stdout);
        kit::check(::write(go[1], "!", 1), "write");
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        return status == 0 ? 0 : 1;
    });
}
