// msg_receiver.cpp — System V message queue, receiving side: finds the same
// queue as msg_sender through ftok(PATH), receives COUNT messages (waiting
// for them if they are not there yet), then removes the queue.
//
// Run:    ./msg_receiver q 2        (before or after ./msg_sender q hello world)
// Prints: one line per message, e.g.  received type 1, 5 bytes: "hello"
//         then  removed queue <id>
// Stopped by SIGINT or SIGTERM while it waits, it removes the queue too and
// exits 128 + the signal. SIGKILL cannot be caught: then the queue and any
// messages in it stay in the kernel until msgctl(IPC_RMID) or ipcrm -q <id>.
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

#include "kit/check.hpp"
#include "msg_protocol.hpp"

using ch03::kProjectId;
using ch03::Message;

namespace {

volatile std::sig_atomic_t g_stop = 0;  // the signal that asked us to stop
void on_stop(int sig) { g_stop = sig; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH COUNT", [](auto args) {
        if (args.size() > 2) throw kit::unexpected(args[2]);
        if (args.size() != 2) throw kit::UsageError{"need a key file and a count"};
        const std::string path(args[0]);
        const long count = kit::parse_long(args[1], 1, 1000);
        // No SA_RESTART: the signal interrupts msgrcv with EINTR.
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        for (int sig : {SIGINT, SIGTERM}) kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
        key_t key = kit::check(::ftok(path.c_str(), kProjectId), "ftok");
        int id = kit::check(::msgget(key, IPC_CREAT | 0600), "msgget");

        for (long i = 0; i < count && g_stop == 0; ++i) {
            Message m{};
            ssize_t n;
            // msgtyp 0: the oldest message of any type. No IPC_NOWAIT: wait for one.
            do {
                n = ::msgrcv(id, &m, sizeof m.mtext, 0, 0);
            } while (n == -1 && errno == EINTR && g_stop == 0);
            if (n == -1 && g_stop != 0) break;
            kit::check(n, "msgrcv");
            std::printf("received type %ld, %zd bytes: \"%.*s\"\n", m.mtype, n, int(n), m.mtext);
        }
        // Queues are kernel-persistent: without this they outlive every process.
        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        if (g_stop != 0) {
            std::printf("stopped by signal %d, removed queue %d\n", int(g_stop), id);
            return 128 + int(g_stop);
        }
        std::printf("removed queue %d\n", id);
        return 0;
    });
}
