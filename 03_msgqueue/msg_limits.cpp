// msg_limits.cpp — the two System V limits: msgmax (bytes in one message) and
// msgmnb (bytes in one queue, the queue's msg_qbytes). Messages are
// variable-length; a full queue makes msgsnd fail with EAGAIN (IPC_NOWAIT) or
// block until a receiver makes room — "asynchronous" only until then.
//
// Run:    ./msg_limits
// Prints: the limits from /proc and IPC_STAT, how many messages fit, then
//         "child blocked in msgsnd ... until the parent received one".
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const long msgmax = kit::read_long_file("/proc/sys/kernel/msgmax").value_or(8192);
        const long msgmnb = kit::read_long_file("/proc/sys/kernel/msgmnb").value_or(16384);
        std::printf("/proc/sys/kernel/msgmax = %ld bytes per message\n", msgmax);
        std::printf("/proc/sys/kernel/msgmnb = %ld bytes per queue (default)\n", msgmnb);

        int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
        auto remove_on_exit = kit::msg_guard(id);  // IPC_RMID also on an error path
        msqid_ds ds{};
        kit::check(::msgctl(id, IPC_STAT, &ds), "msgctl(IPC_STAT)");
        std::printf("IPC_STAT msg_qbytes     = %lu bytes for this queue\n",
                    static_cast<unsigned long>(ds.msg_qbytes));

        // A buffer: the long type, then room for the largest payload.
        std::vector<long> buf(1 + static_cast<std::size_t>(msgmax) / sizeof(long) + 1);
        buf[0] = 1;
        if (::msgsnd(id, buf.data(), static_cast<std::size_t>(msgmax) + 1, IPC_NOWAIT) == -1 &&
            errno == EINVAL)
            std::printf("msgsnd of msgmax+1 bytes: EINVAL\n");

        // Fill with messages of a size that does not divide msg_qbytes evenly.
        const std::size_t size = 1000;
        long sent = 0;
        while (::msgsnd(id, buf.data(), size, IPC_NOWAIT) == 0) ++sent;
        if (errno != EAGAIN) throw kit::SysError(errno, "msgsnd");
        std::printf("%ld messages of %zu bytes fit (%ld bytes), the next: EAGAIN\n", sent, size,
                    sent * long(size));

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // without IPC_NOWAIT the sender sleeps in msgsnd
            ::_exit(::msgsnd(id, buf.data(), size, 0) == 0 ? 0 : 1);
        }
        if (!kit::wait_until_blocked(pid, "msgsnd"))
            throw kit::SysError(ETIMEDOUT, "wait for child");
        std::printf("child %d blocked in msgsnd (state %c)", int(pid), kit::process_state(pid));
        kit::check(::msgrcv(id, buf.data(), size, 0, IPC_NOWAIT), "msgrcv");
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        std::printf(" until the parent received one; child exit status %d\n", WEXITSTATUS(status));

        kit::check(::msgctl(id, IPC_STAT, &ds), "msgctl(IPC_STAT)");
        std::printf("queue now holds %lu messages, %lu bytes\n",
                    static_cast<unsigned long>(ds.msg_qnum),
                    static_cast<unsigned long>(ds.__msg_cbytes));
        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        remove_on_exit.dismiss();
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
