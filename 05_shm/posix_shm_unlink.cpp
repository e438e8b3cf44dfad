// posix_shm_unlink.cpp — shm_unlink() removes a name, not the memory. After
// the unlink the name is gone (shm_open fails with ENOENT; /dev/shm has no
// such file), yet every existing mapping keeps working and still connects the
// processes that hold it. The memory is freed when the last mapping goes.
// A new object under the same name is a different, empty object.
//
// Run:    ./posix_shm_unlink
// Prints: mapped /ipckit-...-unlinked; a child holds the mapping too
//         shm_unlink done: shm_open(name) -> ENOENT, /dev/shm entry: gone
//         child: wrote "written after the unlink"
//         parent read: "written after the unlink"
//         shm_open(name, O_CREAT) again: a new object of 0 bytes
//
// SIGINT or SIGTERM during the run waits until the name is removed, then stops
// it (stop_held.hpp). After SIGKILL the name stays: see "When a process dies".
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "stop_held.hpp"

namespace {
constexpr std::size_t kSize = 4096;
}

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        const ch05::StopsHeld stops;  // SIGINT/SIGTERM wait until the name is gone

        auto name = kit::shm_unlink_guard(kit::unique_posix_name("unlinked"));
        int fd = kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        kit::check(::ftruncate(fd, kSize), "ftruncate");
        auto* text = static_cast<char*>(kit::check(
            ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED, "mmap"));
        kit::check(::close(fd), "close");

        char step = 0;  // one byte on a pipe: "your turn"
        int go[2];
        kit::check(::pipe(go), "pipe");
        kit::Child child = kit::spawn([&] {
            kit::check(::close(go[1]), "close");
            // wait until the name is gone
            if (kit::check(::read(go[0], &step, 1), "read") != 1) return 1;
            std::snprintf(text, kSize, "written after the unlink");
            std::printf("child: wrote \"%s\"\n", text);
            return 0;
        });
        std::printf("mapped %s; a child holds the mapping too\n", name.c_str());

        kit::check(::shm_unlink(name.c_str()), "shm_unlink");
        const bool enoent = ::shm_open(name.c_str(), O_RDWR, 0) == -1 && errno == ENOENT;
        struct stat st {};
        const bool gone = ::stat(("/dev/shm" + name.name()).c_str(), &st) == -1 && errno == ENOENT;
        std::printf("shm_unlink done: shm_open(name) -> %s, /dev/shm entry: %s\n",
                    enoent ? "ENOENT" : "still opens", gone ? "gone" : "still there");

        kit::check(::write(go[1], "g", 1), "write");
        if (!child.wait().ok()) return 1;
        std::printf("parent read: \"%s\"\n", text);

        fd = kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        kit::check(::fstat(fd, &st), "fstat");
        std::printf("shm_open(name, O_CREAT) again: a new object of %lld bytes\n",
                    static_cast<long long>(st.st_size));
        kit::check(::close(fd), "close");
        kit::check(::munmap(text, kSize), "munmap");
        return 0;  // the guard unlinks the second object
    });
}
