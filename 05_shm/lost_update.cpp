// lost_update.cpp — the race every note on shared memory warns about, made to
// happen on every run. value = 5 lives in a MAP_SHARED mapping; process A
// adds 1, process B adds 2, each as read → compute → write. Two pipes force
// the bad interleaving: A reads, B reads, A writes, B writes. B's write is
// computed from the 5 it read, so A's update is lost: 7, not 8.
// (lost_update_semaphore, lost_update_mutex and lost_update_atomic fix it.)
//
// Run:    ./lost_update
// Prints: A read 5
//         B read 5
//         A wrote 6
//         B wrote 7
//         value = 7, expected 8: A's update was lost
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

#include "kit/check.hpp"
#include "kit/child.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);

        void* p = kit::check(::mmap(nullptr, sizeof(long), PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                             MAP_FAILED, "mmap");
        long* value = static_cast<long*>(p);
        *value = 5;

        char step = 0;  // one byte on a pipe: "your turn"
        int a_to_b[2], b_to_a[2];
        kit::check(::pipe(a_to_b), "pipe");
        kit::check(::pipe(b_to_a), "pipe");
        kit::Child b = kit::spawn([&] {  // process B: value += 2
            kit::check(::close(a_to_b[1]), "close");
            if (kit::check(::read(a_to_b[0], &step, 1), "read") != 1) return 1;  // A has read
            long seen = *value;
            std::printf("B read %ld\n", seen);
            kit::check(::write(b_to_a[1], "g", 1), "write");
            if (kit::check(::read(a_to_b[0], &step, 1), "read") != 1) return 1;  // A has written
            *value = seen + 2;
            std::printf("B wrote %ld\n", seen + 2);
            return 0;
        });
        kit::check(::close(b_to_a[1]), "close");
        // process A: value += 1
        long seen = *value;
        std::printf("A read %ld\n", seen);
        kit::check(::write(a_to_b[1], "g", 1), "write");
        // wait until B has read the same 5
        if (kit::check(::read(b_to_a[0], &step, 1), "read") != 1) return 1;
        *value = seen + 1;
        std::printf("A wrote %ld\n", seen + 1);
        kit::check(::write(a_to_b[1], "g", 1), "write");
        if (!b.wait().ok()) return 1;

        std::printf("value = %ld, expected 8: %s\n", *value,
                    *value == 8 ? "no update lost" : "A's update was lost");
        kit::check(::munmap(p, sizeof(long)), "munmap");
        return 0;
    });
}
