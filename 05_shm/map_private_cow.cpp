// map_private_cow.cpp — MAP_SHARED vs MAP_PRIVATE on the same object.
// The parent maps one POSIX shared-memory object twice: MAP_SHARED (the
// object itself) and MAP_PRIVATE (copy-on-write). A child writes through
// MAP_SHARED. Until the parent writes to its private page, that page IS the
// object's page and shows the child's bytes; the parent's first write copies
// the page, and from then on the private view never sees the object again —
// and the object never sees the private write.
//
// Run:    ./map_private_cow
// Prints: shm_open /ipckit-...-cow, ftruncate 4096, mapped MAP_SHARED and MAP_PRIVATE
//         child: wrote "child v1" through MAP_SHARED
//         parent: MAP_PRIVATE before writing:  "child v1"
//         parent: wrote "parent's copy" through MAP_PRIVATE
//         parent: MAP_SHARED (the object):     "child v1"
//         child: wrote "child v2" through MAP_SHARED
//         parent: MAP_PRIVATE after writing:   "parent's copy"
//         parent: MAP_SHARED (the object):     "child v2"
//
// SIGINT or SIGTERM during the run waits until the name is removed, then stops
// it (stop_held.hpp). After SIGKILL the name stays: see "When a process dies".
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "stop_held.hpp"

namespace {
constexpr std::size_t kSize = 4096;

char* map(int fd, int sharing) {
    void* p = kit::check(::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, sharing, fd, 0), MAP_FAILED,
                         "mmap");
    return static_cast<char*>(p);
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        const ch05::StopsHeld stops;  // SIGINT/SIGTERM wait until the name is gone

        auto name = kit::shm_unlink_guard(kit::unique_posix_name("cow"));
        int fd = kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        kit::check(::ftruncate(fd, kSize), "ftruncate");
        char* shared = map(fd, MAP_SHARED);
        char* priv = map(fd, MAP_PRIVATE);
        kit::check(::close(fd), "close");
        std::printf("shm_open %s, ftruncate %zu, mapped MAP_SHARED and MAP_PRIVATE\n", name.c_str(),
                    kSize);

        char step = 0;  // one byte on a pipe: "your turn"
        int to_child[2], to_parent[2];
        kit::check(::pipe(to_child), "pipe");
        kit::check(::pipe(to_parent), "pipe");
        kit::Child child = kit::spawn([&] {
            kit::check(::close(to_child[1]), "close");  // so the parent's exit is EOF here
            std::snprintf(shared, kSize, "child v1");
            std::printf("child: wrote \"%s\" through MAP_SHARED\n", shared);
            kit::check(::write(to_parent[1], "g", 1), "write");
            // wait until the parent has written its private page
            if (kit::check(::read(to_child[0], &step, 1), "read") != 1) return 1;
            std::snprintf(shared, kSize, "child v2");
            std::printf("child: wrote \"%s\" through MAP_SHARED\n", shared);
            return 0;
        });
        kit::check(::close(to_parent[1]), "close");  // so the child's exit is EOF here
        if (kit::check(::read(to_parent[0], &step, 1), "read") != 1) return 1;
        std::printf("parent: MAP_PRIVATE before writing:  \"%s\"\n", priv);
        std::snprintf(priv, kSize, "parent's copy");  // this store faults and copies the page
        std::printf("parent: wrote \"%s\" through MAP_PRIVATE\n", priv);
        std::printf("parent: MAP_SHARED (the object):     \"%s\"\n", shared);
        kit::check(::write(to_child[1], "g", 1), "write");
        if (!child.wait().ok()) return 1;
        std::printf("parent: MAP_PRIVATE after writing:   \"%s\"\n", priv);
        std::printf("parent: MAP_SHARED (the object):     \"%s\"\n", shared);

        kit::check(::munmap(priv, kSize), "munmap");
        kit::check(::munmap(shared, kSize), "munmap");
        return 0;
    });
}
