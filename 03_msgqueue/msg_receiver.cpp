// msg_receiver.cpp — System V message queue, receiving side: finds the same
// queue as msg_sender through ftok(PATH), receives COUNT messages (waiting
// for them if they are not there yet), then removes the queue.
//
// Run:    ./msg_receiver /tmp/q 2        (before or after ./msg_sender /tmp/q hello world)
// Prints: one line per message, e.g.  received type 1, 5 bytes: "hello"
//         then  removed queue <id>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cerrno>
#include <cstdio>

#include "kit/check.hpp"
#include "msg_protocol.hpp"

using ch03::kProjectId;
using ch03::Message;

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH COUNT", [](auto args) {
        if (args.size() != 2) throw kit::UsageError{};
        const std::string path(args[0]);
        const long count = kit::parse_long(args[1], 1, 1000);
        key_t key = kit::check(::ftok(path.c_str(), kProjectId), "ftok");
        int id = kit::check(::msgget(key, IPC_CREAT | 0600), "msgget");

        for (long i = 0; i < count; ++i) {
            Message m{};
            ssize_t n;
            // msgtyp 0: the oldest message of any type. No IPC_NOWAIT: wait for one.
            do {
                n = ::msgrcv(id, &m, sizeof m.mtext, 0, 0);
            } while (n == -1 && errno == EINTR);
            kit::check(n, "msgrcv");
            std::printf("received type %ld, %zd bytes: \"%.*s\"\n", m.mtype, n, int(n), m.mtext);
        }
        // Queues are kernel-persistent: without this they outlive every process.
        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        std::printf("removed queue %d\n", id);
        return 0;
    });
}
