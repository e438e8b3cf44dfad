// sysv_shm_lifecycle.cpp — how long a System V segment lives.
//  1. A child creates a segment under a key, writes into it and exits: the
//     segment stays (kernel persistence); the parent finds it by the key.
//  2. The parent and a second child attach it; the parent calls
//     shmctl(IPC_RMID). Nothing is destroyed yet: the segment is only marked
//     (SHM_DEST), its key becomes IPC_PRIVATE (shmget(key) now fails with
//     ENOENT), and the attached child keeps using it.
//  3. When the last process detaches (the child exits), the kernel destroys it:
//     shmctl(IPC_STAT) fails with EINVAL.
//
// Run:    ./sysv_shm_lifecycle
// Prints: creator <pid> exited; shmget(key) finds segment <id>: "from the creator"
//         after IPC_RMID: shm_nattch=2 SHM_DEST=yes key=0 (IPC_PRIVATE), shmget(key): ENOENT
//         child, after IPC_RMID and the parent's shmdt: read "from the creator",
//                wrote "still usable"
//         after the last detach: shmctl(IPC_STAT): EINVAL (destroyed)
//
// SIGINT or SIGTERM during the run waits until the name is removed, then stops
// it (stop_held.hpp). After SIGKILL the name stays: see "When a process dies".
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "stop_held.hpp"

namespace {
constexpr std::size_t kSize = 4096;
void* const kShmatFailed = reinterpret_cast<void*>(-1);

// A key nobody uses yet: IPC_EXCL refuses one that exists, so try the next.
int create_with_fresh_key(key_t& key) {
    for (key = static_cast<key_t>(0x05000000 + ::getpid() * 16);; ++key) {
        int id = ::shmget(key, kSize, IPC_CREAT | IPC_EXCL | 0600);
        if (id != -1 || errno != EEXIST) return kit::check(id, "shmget");
    }
}
}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "(no arguments)", [](auto args) {
        kit::no_arguments(args);
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        const ch05::StopsHeld stops;  // SIGINT/SIGTERM wait until the name is gone

        // 1. The creator is a child that exits; it sends only the key.
        char step = 0;  // one byte on a pipe: "your turn"
        int key_pipe[2];
        kit::check(::pipe(key_pipe), "pipe");
        kit::Child creator = kit::spawn([&] {
            key_t key = 0;
            int id = create_with_fresh_key(key);
            void* p = kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat");
            std::strcpy(static_cast<char*>(p), "from the creator");
            kit::check(::write(key_pipe[1], &key, sizeof key), "write");
            return 0;  // exits still attached: exit detaches, it does not remove
        });
        kit::check(::close(key_pipe[1]), "close");  // a creator that dies gives EOF, not a hang
        key_t key = 0;
        if (kit::check(::read(key_pipe[0], &key, sizeof key), "read") != sizeof key) return 1;
        const pid_t creator_pid = creator.pid();
        if (!creator.wait().ok()) return 1;
        int id = kit::check(::shmget(key, 0, 0), "shmget");
        auto guard = kit::shm_guard(id);
        auto* text = static_cast<char*>(kit::check(::shmat(id, nullptr, 0), kShmatFailed, "shmat"));
        std::printf("creator %d exited; shmget(key) finds segment %d: \"%s\"\n", int(creator_pid),
                    id, text);

        // 2. A second child inherits the attachment and waits for its turn.
        int go[2];
        kit::check(::pipe(go), "pipe");
        kit::Child user = kit::spawn([&] {
            kit::check(::close(go[1]), "close");
            if (kit::check(::read(go[0], &step, 1), "read") != 1) return 1;
            std::printf("child, after IPC_RMID and the parent's shmdt: read \"%s\", ", text);
            std::strcpy(text, "still usable");
            std::printf("wrote \"%s\"\n", text);
            return 0;
        });
        kit::check(::shmctl(id, IPC_RMID, nullptr), "shmctl");
        shmid_ds ds{};
        kit::check(::shmctl(id, IPC_STAT, &ds), "shmctl");
        const bool no_key = ::shmget(key, 0, 0) == -1 && errno == ENOENT;
        std::printf("after IPC_RMID: shm_nattch=%lu SHM_DEST=%s key=%ld%s, shmget(key): %s\n",
                    static_cast<unsigned long>(ds.shm_nattch),
                    (ds.shm_perm.mode & SHM_DEST) ? "yes" : "no", long(ds.shm_perm.__key),
                    ds.shm_perm.__key == IPC_PRIVATE ? " (IPC_PRIVATE)" : "",
                    no_key ? "ENOENT" : "still found");
        kit::check(::shmdt(text), "shmdt");
        kit::check(::write(go[1], "g", 1), "write");
        if (!user.wait().ok()) return 1;

        // 3. The last attachment went away with the child.
        if (::shmctl(id, IPC_STAT, &ds) == -1 && errno == EINVAL) {
            std::printf("after the last detach: shmctl(IPC_STAT): EINVAL (destroyed)\n");
            guard.dismiss();
        }
        return 0;
    });
}
