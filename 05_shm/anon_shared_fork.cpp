// anon_shared_fork.cpp — what a child shares with its parent after fork().
// Ordinary memory (a global) and a MAP_PRIVATE mapping are copied: the child
// changes its own copy. Only a MAP_SHARED mapping is the same memory in both.
// (Stevens' incr1 → incr2private → incr3 progression, in one program.)
//
// Run:    ./anon_shared_fork
// Prints: child wrote 42 into all three
//         ordinary global:               parent sees 0
//         MAP_PRIVATE | MAP_ANONYMOUS:   parent sees 0
//         MAP_SHARED  | MAP_ANONYMOUS:   parent sees 42
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

#include "kit/check.hpp"
#include "kit/child.hpp"

namespace {
long g_global = 0;  // ordinary memory: fork gives the child a copy

long* map_one_long(int sharing) {
    void* p = kit::check(
        ::mmap(nullptr, sizeof(long), PROT_READ | PROT_WRITE, sharing | MAP_ANONYMOUS, -1, 0),
        MAP_FAILED, "mmap");
    return static_cast<long*>(p);
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);

        long* priv = map_one_long(MAP_PRIVATE);
        long* shared = map_one_long(MAP_SHARED);  // no file, no name: only fork passes it on

        kit::Child child = kit::spawn([&] {
            g_global = 42;
            *priv = 42;
            *shared = 42;
            std::printf("child wrote 42 into all three\n");
            return 0;
        });
        if (!child.wait().ok()) return 1;

        std::printf("ordinary global:               parent sees %ld\n", g_global);
        std::printf("MAP_PRIVATE | MAP_ANONYMOUS:   parent sees %ld\n", *priv);
        std::printf("MAP_SHARED  | MAP_ANONYMOUS:   parent sees %ld\n", *shared);
        kit::check(::munmap(priv, sizeof(long)), "munmap");
        kit::check(::munmap(shared, sizeof(long)), "munmap");
        return 0;
    });
}
