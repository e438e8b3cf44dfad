// copy_or_reference.cpp — which calls copy the bytes and which only hand the
// kernel a reference to the page? Each path sends one page of 'O's, then the
// SOURCE is changed to "NNNN" before anyone reads. A forked reader then reads
// the first 4 bytes: "OOOO" means the data was copied when it was sent,
// "NNNN" means the pipe or socket still pointed at the very same page.
//
// Run:    ./copy_or_reference
// Prints: one line per path, e.g. "sendfile file->unix socket  reader sees NNNN: page referenced".
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

constexpr std::size_t kPage = 4096;

// The reader is another process: it reads the page and prints its first 4 bytes.
void report(const char* path, int rfd) {
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        char got[kPage + 1] = {};
        std::size_t n = kit::read_full(rfd, std::as_writable_bytes(std::span(got, kPage)));
        got[4] = '\0';
        std::printf("%-28s reader sees %s: %s\n", path, got,
                    std::strcmp(got, "NNNN") == 0 ? "page referenced" : "copied when sent");
        std::fflush(stdout);
        ::_exit(n == kPage ? 0 : 1);
    }
    int status = 0;
    kit::check(::waitpid(pid, &status, 0), "waitpid");
    if (status != 0) throw kit::SysError(EIO, "reader");
}

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        auto name = kit::unique_temp_path("copy-or-ref");
        kit::Fd fd(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(name.c_str()), "unlink");  // at once: even SIGKILL leaves no name
        const int file = fd.get();
        char page[kPage];
        std::memset(page, 'O', kPage);
        auto reset = [&] { kit::check(::pwrite(file, page, kPage, 0), "pwrite"); };
        auto change_file = [&] { kit::check(::pwrite(file, "NNNN", 4, 0), "pwrite"); };
        int p[2], s[2];

        kit::check(::pipe(p), "pipe");  // write(): the kernel copies the buffer into the pipe
        kit::check(::write(p[1], page, kPage), "write");
        std::memcpy(page, "NNNN", 4);
        report("write buffer->pipe", p[0]);
        std::memset(page, 'O', 4);

        auto* anon = static_cast<char*>(kit::check(
            ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            MAP_FAILED, "mmap"));
        std::memset(anon, 'O', kPage);
        iovec iov{anon, kPage};  // vmsplice(): the pipe points at our page
        kit::check(::vmsplice(p[1], &iov, 1, 0), "vmsplice");
        std::memcpy(anon, "NNNN", 4);
        report("vmsplice buffer->pipe", p[0]);
        kit::check(::munmap(anon, kPage), "munmap");

        reset();
        loff_t off = 0;  // splice(): the pipe points at the page-cache page
        kit::check(::splice(file, &off, p[1], nullptr, kPage, 0), "splice");
        change_file();
        report("splice file->pipe", p[0]);

        kit::check(::socketpair(AF_UNIX, SOCK_STREAM, 0, s), "socketpair");
        reset();
        off_t soff = 0;  // sendfile(): the socket buffer points at the page-cache page
        kit::check(::sendfile(s[0], file, &soff, kPage), "sendfile");
        change_file();
        report("sendfile file->unix socket", s[1]);

        reset();
        auto* map = static_cast<char*>(
            kit::check(::mmap(nullptr, kPage, PROT_READ, MAP_SHARED, file, 0), MAP_FAILED, "mmap"));
        kit::check(::write(s[0], map, kPage), "write");  // write() from the mapping: a copy
        change_file();
        report("mmap+write file->unix socket", s[1]);
        kit::check(::munmap(map, kPage), "munmap");
        return 0;
    });
}
