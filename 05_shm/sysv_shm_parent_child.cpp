// sysv_shm_parent_child.cpp — System V shared memory between two processes.
// The parent makes a segment with shmget(); a forked child attaches it with
// shmat() and writes a line; the parent attaches it too and reads the line.
// The two attachments may sit at different addresses: the segment is the same.
//
// Run:    ./sysv_shm_parent_child
// Prints: shmget: segment <id>, 4096 bytes
//         child <pid>: shmat at 0x..., wrote "hello from child <pid>"
//         parent: shmat at 0x..., read "hello from child <pid>"
//         shm_nattch before shmdt: 1
//         shmctl(IPC_RMID): segment removed
//
// SIGINT or SIGTERM during the run waits until the name is removed, then stops
// it (stop_held.hpp). After SIGKILL the name stays: see "When a process dies".
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "stop_held.hpp"

namespace {
constexpr std::size_t kSize = 4096;
void* const kShmatFailed = reinterpret_cast<void*>(-1);  // shmat's error value
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        const ch05::StopsHeld stops;  // SIGINT/SIGTERM wait until the name is gone

        // IPC_PRIVATE: a new segment that only processes told its id can use.
        int id = kit::check(::shmget(IPC_PRIVATE, kSize, IPC_CREAT | 0600), "shmget");
        auto guard = kit::shm_guard(id);  // removes it on any error below
        std::printf("shmget: segment %d, %zu bytes\n", id, kSize);

        kit::Child child = kit::spawn([id] {
            void* p = kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat");
            auto* text = static_cast<char*>(p);
            std::snprintf(text, kSize, "hello from child %d", int(::getpid()));
            std::printf("child %d: shmat at %p, wrote \"%s\"\n", int(::getpid()), p, text);
            kit::check(::shmdt(p), "shmdt");
            return 0;
        });
        if (!child.wait().ok()) return 1;

        // The child has detached and exited; the bytes stay in the segment.
        void* p = kit::check(::shmat(id, nullptr, SHM_RDONLY), kShmatFailed, "shmat");
        std::printf("parent: shmat at %p, read \"%s\"\n", p, static_cast<const char*>(p));

        shmid_ds ds{};
        kit::check(::shmctl(id, IPC_STAT, &ds), "shmctl");
        std::printf("shm_nattch before shmdt: %lu\n", static_cast<unsigned long>(ds.shm_nattch));
        kit::check(::shmdt(p), "shmdt");
        kit::check(::shmctl(id, IPC_RMID, nullptr), "shmctl");
        guard.dismiss();
        std::printf("shmctl(IPC_RMID): segment removed\n");
        return 0;
    });
}
