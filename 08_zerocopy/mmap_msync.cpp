// mmap_msync.cpp — what msync() is for. A store into a MAP_SHARED mapping is
// at once visible to every process (the mapping IS the page cache page), but
// it is only on storage after write-back; msync(MS_SYNC) forces that for the
// range and waits. /proc/self/smaps shows the mapping's dirty pages.
//
// Run:    ./mmap_msync
// Prints: what another process read() right after the store (no msync), the
//         mapping's dirty kB before msync(MS_SYNC) and after it (0 kB; on
//         tmpfs they stay dirty: there is no storage to write them to).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "smaps_dirty.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        constexpr std::size_t kLen = 4 * 4096;
        auto name = kit::unique_temp_path("msync");
        kit::Fd fd(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(name.c_str()), "unlink");  // at once: even SIGKILL leaves no name
        kit::check(::ftruncate(fd.get(), kLen), "ftruncate");
        auto* map = static_cast<char*>(
            kit::check(::mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0),
                       MAP_FAILED, "mmap"));
        std::memset(map, 'm', kLen);
        std::memcpy(map, "stored", 6);
        std::fflush(stdout);

        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // another process, another descriptor, plain read()
            char buf[7] = {};
            int rfd = ::open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), O_RDONLY);
            ssize_t n = ::pread(rfd, buf, 6, 0);
            std::printf("other process read() before any msync: \"%s\"\n", n == 6 ? buf : "?");
            std::fflush(stdout);
            ::_exit(n == 6 ? 0 : 1);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");

        std::printf("dirty before msync: %ld kB\n", ch08::dirty_kb(map));
        kit::check(::msync(map, kLen, MS_SYNC), "msync");  // write back and wait
        std::printf("dirty after  msync: %ld kB\n", ch08::dirty_kb(map));
        kit::check(::munmap(map, kLen), "munmap");
        return status == 0 ? 0 : 1;
    });
}
