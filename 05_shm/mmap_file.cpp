// mmap_file.cpp — a memory-mapped file as shared memory. Two processes open
// the same ordinary file and map it MAP_SHARED; what one stores into its
// mapping the other sees in its mapping, and read() on the file returns it too:
// mapping and read()/write() use the same page-cache pages. msync() is about
// reaching the disk, not about other processes seeing the bytes.
//
// Run:    ./mmap_file
// Prints: file /tmp/ipckit-...-mapped: 4096 bytes, mapped MAP_SHARED
//         child <pid>: open + mmap, stored "stored by child <pid>"
//         parent, through its mapping: "stored by child <pid>"
//         parent, through pread():     "stored by child <pid>"
//         msync(MS_SYNC): written back to the file system
//
// SIGINT or SIGTERM during the run waits until the name is removed, then stops
// it (stop_held.hpp). After SIGKILL the name stays: see "When a process dies".
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "stop_held.hpp"

namespace {
constexpr std::size_t kSize = 4096;

char* map_file(const std::string& path) {
    int fd = kit::check(::open(path.c_str(), O_RDWR), "open");
    void* p = kit::check(::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
                         MAP_FAILED, "mmap");
    kit::check(::close(fd), "close");
    return static_cast<char*>(p);
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        const ch05::StopsHeld stops;  // SIGINT/SIGTERM wait until the name is gone

        auto path = kit::unlink_guard(kit::unique_temp_path("mapped"));
        int fd = kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "open");
        kit::check(::ftruncate(fd, kSize), "ftruncate");  // a mapping cannot reach past end of file
        char* mine = map_file(path.name());
        std::printf("file %s: %zu bytes, mapped MAP_SHARED\n", path.c_str(), kSize);

        kit::Child child = kit::spawn([&] {
            char* theirs = map_file(path.name());  // its own open() and mmap() of the file
            std::snprintf(theirs, kSize, "stored by child %d", int(::getpid()));
            std::printf("child %d: open + mmap, stored \"%s\"\n", int(::getpid()), theirs);
            kit::check(::munmap(theirs, kSize), "munmap");
            return 0;
        });
        if (!child.wait().ok()) return 1;

        std::printf("parent, through its mapping: \"%s\"\n", mine);
        std::array<char, 64> buf{};
        kit::check(::pread(fd, buf.data(), buf.size() - 1, 0), "pread");
        std::printf("parent, through pread():     \"%s\"\n", buf.data());
        kit::check(::msync(mine, kSize, MS_SYNC), "msync");
        std::printf("msync(MS_SYNC): written back to the file system\n");

        kit::check(::munmap(mine, kSize), "munmap");
        kit::check(::close(fd), "close");
        return 0;
    });
}
