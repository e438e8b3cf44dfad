// msg_sender.cpp — System V message queue, sending side. An unrelated
// process finds the queue through a key that ftok() derives from a file both
// sides know; the messages stay in the kernel after this program exits.
//
// Run:    touch /tmp/q && ./msg_sender /tmp/q hello world && ipcs -q && ./msg_receiver /tmp/q 2
// Prints: one line per message, e.g.  sent type 1, 5 bytes: "hello"
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "msg_protocol.hpp"

using ch03::kProjectId;
using ch03::Message;

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH TEXT...", [](auto args) {
        if (args.size() < 2) throw kit::UsageError{"need a key file and at least one text"};
        const std::string path(args[0]);
        key_t key = kit::check(::ftok(path.c_str(), kProjectId), "ftok");
        // IPC_CREAT without IPC_EXCL: whoever starts first creates the queue.
        int id = kit::check(::msgget(key, IPC_CREAT | 0600), "msgget");

        for (auto text : args.subspan(1)) {
            if (text.size() > sizeof(Message::mtext)) throw kit::UsageError{"text too long"};
            Message m{};
            m.mtype = 1;
            std::memcpy(m.mtext, text.data(), text.size());
            // The size counts the payload only, never the mtype in front of it.
            kit::check(::msgsnd(id, &m, text.size(), 0), "msgsnd");
            std::printf("sent type %ld, %zu bytes: \"%.*s\"\n", m.mtype, text.size(),
                        int(text.size()), text.data());
        }
        return 0;  // exit without msgctl(IPC_RMID): the queue and its messages stay
    });
}
