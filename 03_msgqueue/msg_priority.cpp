// msg_priority.cpp — System V queues have no priority field. "Priority" is
// msgrcv with a negative msgtyp: the LOWEST type <= |msgtyp| comes first, FIFO
// among equal types. And mtype is one whole long: high bits are not a
// "priority" part (a popular note says the high 32 bits are).
//
// Run:    ./msg_priority
// Prints: the receive order for the note's example (A,B typed 10, C 5, D 1):
//         msgtyp=0: A B C D   then   msgtyp=-LONG_MAX: D C A B
//         and what msgtyp=7 and msgtyp<0 return for mtype (2<<32)+7.
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <initializer_list>
#include <utility>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

struct Message {
    long mtype;
    char mtext[1];  // one letter
};

// The sender is another process; it exits before anything is received.
void send_from_child(int id, std::initializer_list<std::pair<long, char>> msgs) {
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        for (auto [type, letter] : msgs) {
            Message m{type, {letter}};
            if (::msgsnd(id, &m, sizeof m.mtext, 0) == -1) ::_exit(1);
        }
        ::_exit(0);
    }
    int status = 0;
    kit::check(::waitpid(pid, &status, 0), "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw kit::SysError(EIO, "sender");
}

// Receives with msgtyp until nothing matches; prints "type:letter" in order.
void drain(int id, long msgtyp, const char* label) {
    std::printf("%-18s", label);
    Message m{};
    int got = 0;
    for (; ::msgrcv(id, &m, sizeof m.mtext, msgtyp, IPC_NOWAIT) != -1; ++got)
        std::printf(" %c(type %ld)", m.mtext[0], m.mtype);
    if (errno != ENOMSG) throw kit::SysError(errno, "msgrcv");
    std::printf("%s\n", got == 0 ? " ENOMSG (nothing matches)" : "");
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
        auto remove_on_exit = kit::msg_guard(id);  // IPC_RMID also on an error path

        // The note's example: A and B "priority 10", C 5, D 1, sent in that order.
        const std::initializer_list<std::pair<long, char>> note{
            {10, 'A'}, {10, 'B'}, {5, 'C'}, {1, 'D'}};
        send_from_child(id, note);
        drain(id, 0, "msgtyp=0:");  // arrival order, types ignored
        send_from_child(id, note);
        drain(id, -LONG_MAX, "msgtyp=-LONG_MAX:");  // lowest type first: 10 is LEAST urgent

        // The "high 32 bits = priority" myth: X is "priority 2, type 7", Y is type 7.
        constexpr long kHigh = (2L << 32) + 7;
        send_from_child(id, {{kHigh, 'X'}, {7, 'Y'}});
        drain(id, 7, "msgtyp=7:");        // only Y: 7 != (2<<32)+7, whole longs are compared
        drain(id, -100, "msgtyp=-100:");  // nothing: X's type is far above 100
        drain(id, -LONG_MAX, "msgtyp=-LONG_MAX:");  // X at last: a huge type is the LEAST urgent

        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        remove_on_exit.dismiss();
        return 0;
    });
}
