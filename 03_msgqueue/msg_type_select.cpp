// msg_type_select.cpp — how msgrcv's msgtyp picks a message from a queue
// holding several types: 0 (oldest of any type), > 0 (oldest of that type),
// > 0 with MSG_EXCEPT (oldest of any other type), < 0 (lowest type first).
//
// Run:    ./msg_type_select
// Prints: the queue as a child sent it, then one line per msgrcv call:
//         msgrcv(msgtyp=0)            -> 2:b1
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

struct Message {
    long mtype;
    char mtext[16];
};

struct Sent {
    long type;
    std::string_view text;
};
// Oldest first. Types 1..3 are mixed on purpose.
constexpr std::array<Sent, 6> kSent{
    {{2, "b1"}, {1, "a1"}, {3, "c1"}, {2, "b2"}, {1, "a2"}, {3, "c2"}}};

void receive(int id, long msgtyp, int flags, const char* how) {
    Message m{};
    ssize_t n = ::msgrcv(id, &m, sizeof m.mtext, msgtyp, flags | IPC_NOWAIT);
    if (n == -1 && errno == ENOMSG) {
        std::printf("msgrcv(%-24s) -> ENOMSG (nothing matches)\n", how);
        return;
    }
    kit::check(n, "msgrcv");
    std::printf("msgrcv(%-24s) -> %ld:%.*s\n", how, m.mtype, int(n), m.mtext);
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
        auto remove_on_exit = kit::msg_guard(id);  // IPC_RMID also on an error path

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // child: the sender
            for (const auto& s : kSent) {
                Message m{s.type, {}};
                std::memcpy(m.mtext, s.text.data(), s.text.size());
                if (::msgsnd(id, &m, s.text.size(), 0) == -1) ::_exit(1);
            }
            ::_exit(0);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw kit::SysError(EIO, "sender");

        std::printf("queue, oldest first:");
        for (const auto& s : kSent)
            std::printf(" %ld:%.*s", s.type, int(s.text.size()), s.text.data());
        std::printf("\n");
        receive(id, 0, 0, "msgtyp=0");                       // oldest of any type: 2:b1
        receive(id, 3, 0, "msgtyp=3");                       // oldest of type 3: 3:c1
        receive(id, 1, MSG_EXCEPT, "msgtyp=1, MSG_EXCEPT");  // oldest type != 1: 2:b2
        receive(id, -3, 0, "msgtyp=-3");                     // lowest type <= 3: 1:a1
        receive(id, -3, 0, "msgtyp=-3");                     // still type 1, FIFO: 1:a2
        receive(id, 2, 0, "msgtyp=2");                       // no type 2 left
        receive(id, -3, 0, "msgtyp=-3");                     // only 3:c2 left

        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        remove_on_exit.dismiss();
        return 0;
    });
}
