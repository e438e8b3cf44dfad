// msg_truncate.cpp — receiving into a buffer smaller than the message:
// E2BIG and the message stays queued; with MSG_NOERROR it is cut to fit and
// the rest is lost. An empty queue with IPC_NOWAIT gives ENOMSG.
//
// Run:    ./msg_truncate
// Prints: msgrcv(5 bytes): E2BIG, queue still holds 1 message
//         msgrcv(5 bytes, MSG_NOERROR): 5 bytes "hello"
//         msgrcv(IPC_NOWAIT) on the empty queue: ENOMSG
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

struct Message {
    long mtype;
    char mtext[64];
};

unsigned long queued(int id) {
    msqid_ds ds{};
    kit::check(::msgctl(id, IPC_STAT, &ds), "msgctl(IPC_STAT)");
    return ds.msg_qnum;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
        auto remove_on_exit = kit::msg_guard(id);  // IPC_RMID also on an error path

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {
            Message m{1, "hello world"};
            ::_exit(::msgsnd(id, &m, std::strlen(m.mtext), 0) == 0 ? 0 : 1);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");

        Message m{};
        if (::msgrcv(id, &m, 5, 0, IPC_NOWAIT) == -1 && errno == E2BIG)
            std::printf("msgrcv(5 bytes): E2BIG, queue still holds %lu message\n", queued(id));

        ssize_t n = kit::check(::msgrcv(id, &m, 5, 0, IPC_NOWAIT | MSG_NOERROR), "msgrcv");
        std::printf("msgrcv(5 bytes, MSG_NOERROR): %zd bytes \"%.*s\", queue holds %lu\n", n,
                    int(n), m.mtext, queued(id));

        if (::msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT) == -1 && errno == ENOMSG)
            std::printf("msgrcv(IPC_NOWAIT) on the empty queue: ENOMSG\n");

        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        remove_on_exit.dismiss();
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
