// posix_shm_two_roles.cpp — POSIX shared memory: two processes that share no
// memory at all meet by a name. The writer creates the object (shm_open),
// sizes it (ftruncate) and maps it (mmap); then it starts a new program —
// itself, re-executed with execv, so nothing is inherited but the name — which
// opens the same name, maps it, reads the greeting and writes a reply.
//
// Run:    ./posix_shm_two_roles            (the writer; runs "reader <name>" itself)
//         ./posix_shm_two_roles reader /name
// Prints: writer: shm_open /ipckit-...-greeting, ftruncate 4096, mmap, wrote "hello, reader"
//         reader <pid>: shm_open + mmap of 4096 bytes, read "hello, reader"
//         writer: reply "hello, writer <pid>"
//         writer: shm_unlink /ipckit-...-greeting
//
// SIGINT or SIGTERM during the run waits until the name is removed, then stops
// it (stop_held.hpp). After SIGKILL the name stays: see "When a process dies".
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "stop_held.hpp"

namespace {
constexpr std::size_t kSize = 4096;
constexpr std::size_t kReplyAt = 2048;  // the reader answers in the second half

int reader(const std::string& name) {
    int fd = kit::check(::shm_open(name.c_str(), O_RDWR, 0), "shm_open");
    struct stat st {};
    kit::check(::fstat(fd, &st), "fstat");  // the size ftruncate gave it
    const auto size = static_cast<std::size_t>(st.st_size);
    void* p = kit::check(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                         MAP_FAILED, "mmap");
    kit::check(::close(fd), "close");  // the mapping keeps the object open
    auto* text = static_cast<char*>(p);
    std::printf("reader %d: shm_open + mmap of %zu bytes, read \"%s\"\n", int(::getpid()), size,
                text);
    std::snprintf(text + kReplyAt, size - kReplyAt, "hello, writer %d", int(::getpid()));
    kit::check(::munmap(p, size), "munmap");
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[reader NAME]", [argv](auto args) {
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        if (args.size() == 2 && args[0] == "reader") return reader(std::string(args[1]));
        kit::no_arguments(args);
        const ch05::StopsHeld stops;  // SIGINT/SIGTERM wait until the name is gone

        auto name = kit::shm_unlink_guard(kit::unique_posix_name("greeting"));
        int fd = kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        kit::check(::ftruncate(fd, kSize), "ftruncate");  // a new object has size 0
        void* p = kit::check(::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                             MAP_FAILED, "mmap");
        kit::check(::close(fd), "close");
        auto* text = static_cast<char*>(p);
        std::snprintf(text, kSize, "hello, reader");
        std::printf("writer: shm_open %s, ftruncate %zu, mmap, wrote \"%s\"\n", name.c_str(), kSize,
                    text);

        kit::Child child = kit::spawn([&] {
            // A fresh program image: only the name crosses over.
            ::execl("/proc/self/exe", argv[0], "reader", name.c_str(), nullptr);
            throw kit::SysError(errno, "execl");
            return 1;
        });
        if (!child.wait().ok()) return 1;
        std::printf("writer: reply \"%s\"\n", text + kReplyAt);

        kit::check(::munmap(p, kSize), "munmap");
        kit::check(::shm_unlink(name.c_str()), "shm_unlink");
        name.dismiss();
        std::printf("writer: shm_unlink %s\n", name.c_str());
        return 0;
    });
}
