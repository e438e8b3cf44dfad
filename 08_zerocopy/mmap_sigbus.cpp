// mmap_sigbus.cpp — a mapping outlives the file behind it. When the file is
// truncated, touching a mapped page that now lies wholly past end-of-file
// raises SIGBUS; the tail of the last page still reads as zeros.
//
// Run:    ./mmap_sigbus
// Prints: the byte just past EOF (0), then "child killed by SIGBUS" for the
//         child that touched the second page after the file shrank to 100 bytes.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const std::size_t page = std::size_t(::sysconf(_SC_PAGESIZE));
        auto name = kit::unique_temp_path("sigbus");
        kit::Fd fd(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(name.c_str()), "unlink");  // at once: even SIGKILL leaves no name
        kit::check(::ftruncate(fd.get(), off_t(2 * page)), "ftruncate");  // two pages
        auto* map = static_cast<volatile char*>(kit::check(
            ::mmap(nullptr, 2 * page, PROT_READ, MAP_SHARED, fd.get(), 0), MAP_FAILED, "mmap"));

        kit::check(::ftruncate(fd.get(), 100), "ftruncate");  // someone shrinks the file
        std::printf("file is now 100 bytes; byte 100 (same page) reads %d\n", map[100]);
        std::fflush(stdout);

        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            ::signal(SIGBUS, SIG_DFL);  // a sanitizer's handler would turn it into an exit
            char c = map[page];         // the second page: no file behind it any more
            std::printf("child read %d: no signal?\n", c);
            ::_exit(0);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        if (WIFSIGNALED(status))
            std::printf("child killed by %s touching byte %zu\n", sigabbrev_np(WTERMSIG(status)),
                        page);
        else
            std::printf("child exited %d\n", WEXITSTATUS(status));
        kit::check(::munmap(const_cast<char*>(map), 2 * page), "munmap");
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS ? 0 : 1;
    });
}
