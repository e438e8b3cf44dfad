// msg_sender.cpp — System V message queue, sending side. An unrelated
// process finds the queue through a key that ftok() derives from a file both
// sides know; the messages stay in the kernel after this program exits.
//
// Run:    touch q && ./msg_sender q hello world && ./msg_receiver q 2
// Prints: one line per message, e.g.  sent type 1, 5 bytes: "hello"
//         then  queue <id> keeps 2 messages after this program exits
// Stopped by SIGINT or SIGTERM while it waits in msgsnd (a full queue), it
// removes the queue and exits 128 + the signal. SIGKILL cannot be caught: the
// queue and the messages sent so far stay until msgctl(IPC_RMID) / ipcrm -q.
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "msg_protocol.hpp"

using ch03::kProjectId;
using ch03::Message;

namespace {

volatile std::sig_atomic_t g_stop = 0;  // the signal that asked us to stop
void on_stop(int sig) { g_stop = sig; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH TEXT...", [](auto args) {
        if (args.size() < 2) throw kit::UsageError{"need a key file and at least one text"};
        const std::string path(args[0]);
        struct sigaction sa {};  // no SA_RESTART: the signal interrupts msgsnd with EINTR
        sa.sa_handler = on_stop;
        for (int sig : {SIGINT, SIGTERM}) kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
        key_t key = kit::check(::ftok(path.c_str(), kProjectId), "ftok");
        // IPC_CREAT without IPC_EXCL: whoever starts first creates the queue.
        int id = kit::check(::msgget(key, IPC_CREAT | 0600), "msgget");

        for (auto text : args.subspan(1)) {
            if (text.size() > sizeof(Message::mtext)) throw kit::UsageError{"text too long"};
            Message m{};
            m.mtype = 1;
            std::memcpy(m.mtext, text.data(), text.size());
            int rc;
            // The size counts the payload only, never the mtype in front of it.
            do rc = ::msgsnd(id, &m, text.size(), 0);
            while (rc == -1 && errno == EINTR && g_stop == 0);
            if (g_stop != 0) {
                kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
                std::printf("stopped by signal %d, removed queue %d\n", int(g_stop), id);
                return 128 + int(g_stop);
            }
            kit::check(rc, "msgsnd");
            std::printf("sent type %ld, %zu bytes: \"%.*s\"\n", m.mtype, text.size(),
                        int(text.size()), text.data());
        }
        msqid_ds ds{};
        if (::msgctl(id, IPC_STAT, &ds) == -1) {
            // EINVAL/EIDRM: a receiver running at the same time took the messages and removed it.
            if (errno != EINVAL && errno != EIDRM) throw kit::SysError(errno, "msgctl(IPC_STAT)");
            std::printf("queue %d is already gone: its receiver removed it\n", id);
            return 0;
        }
        std::printf("queue %d keeps %lu messages after this program exits\n", id,
                    static_cast<unsigned long>(ds.msg_qnum));
        return 0;  // exit without msgctl(IPC_RMID): the queue and its messages stay
    });
}
