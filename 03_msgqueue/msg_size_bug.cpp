// msg_size_bug.cpp — the classic System V bug: passing sizeof(struct) as the
// size. The size counts the payload after mtype only, so sizeof(struct) is
// sizeof(long) too many: msgsnd copies 8 bytes that lie BEHIND the struct
// into the queue, and msgrcv with the same size writes 8 bytes behind it.
//
// Run:    ./msg_size_bug
// Prints: right size: 16 bytes sent
//         wrong size: 24 bytes sent, the last 8: "SECRET!"
//         and the receiver's neighbouring field overwritten by the message tail.
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

struct Message {
    long mtype;
    char mtext[16];
};

// A message with a neighbour: whatever happens to follow a struct in memory.
struct Frame {
    Message msg;
    char neighbour[8];
};
static_assert(sizeof(Message) == sizeof(long) + 16 &&
              offsetof(Frame, neighbour) == sizeof(Message));

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
        auto remove_on_exit = kit::msg_guard(id);  // IPC_RMID also on an error path

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // the sender: one right call, one wrong call
            Frame f{{1, "payload"}, "SECRET!"};
            bool ok = ::msgsnd(id, &f, sizeof f.msg.mtext, 0) == 0;  // right: payload only
            ok = ok && ::msgsnd(id, &f, sizeof f.msg, 0) == 0;       // wrong: 8 bytes too many
            ::_exit(ok ? 0 : 1);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");

        Frame r{{0, ""}, "mine"};
        ssize_t n = kit::check(::msgrcv(id, &r, sizeof r.msg.mtext, 0, 0), "msgrcv");
        std::printf("right size: %zd bytes sent\n", n);
        // The receiver repeats the mistake: it allows 24 bytes into a 16-byte mtext.
        n = kit::check(::msgrcv(id, &r, sizeof r.msg, 0, 0), "msgrcv");
        std::printf("wrong size: %zd bytes sent, the last 8: \"%.7s\"\n", n, r.neighbour);
        std::printf("the receiver's own neighbour field (was \"mine\") now reads \"%.7s\"\n",
                    r.neighbour);

        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        remove_on_exit.dismiss();
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
