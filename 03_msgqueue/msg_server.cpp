// msg_server.cpp — one System V queue carries requests and replies for many
// clients: requests have type 1, each reply has the type of the client's pid,
// and each client receives only msgtyp == getpid(). (Type 1 is free for
// requests as long as no client is pid 1: the init of the system, or of the
// container's pid namespace.)
//
// Run:    ./msg_server [CLIENTS]      (default 3)
// Prints: one line per client, e.g.  client 4242: asked 3, got 9 (reply type 4242)
//         then  server answered 3 requests
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

constexpr long kRequestType = 1;

struct Request {
    long mtype;  // kRequestType
    struct {
        pid_t client;  // 0 asks the server to stop
        long number;
    } body;
};

struct Reply {
    long mtype;  // the client's pid
    long square;
};

ssize_t receive(int id, void* msg, std::size_t size, long msgtyp) {
    ssize_t n;
    do n = ::msgrcv(id, msg, size, msgtyp, 0);
    while (n == -1 && errno == EINTR);
    return kit::check(n, "msgrcv");
}

int serve(int id) {
    int answered = 0;
    for (;;) {
        Request rq{};
        receive(id, &rq, sizeof rq.body, kRequestType);  // requests only, never replies
        if (rq.body.client == 0) break;
        Reply rp{rq.body.client, rq.body.number * rq.body.number};
        kit::check(::msgsnd(id, &rp, sizeof rp.square, 0), "msgsnd");
        ++answered;
    }
    std::printf("server answered %d requests\n", answered);
    return 0;
}

int client(int id, long number) {
    Request rq{kRequestType, {::getpid(), number}};
    kit::check(::msgsnd(id, &rq, sizeof rq.body, 0), "msgsnd");
    Reply rp{};
    receive(id, &rp, sizeof rp.square, ::getpid());  // my reply, whoever else is waiting
    std::printf("client %d: asked %ld, got %ld (reply type %ld)\n", int(::getpid()), number,
                rp.square, rp.mtype);
    return rp.square == number * number ? 0 : 1;
}

// Runs role(id) in a child that ends with _exit.
template <class Role>
pid_t start(Role role) {
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        int rc = 1;
        try {
            rc = role();
        } catch (const kit::SysError& e) {
            std::fprintf(stderr, "msg_server: %s\n", e.message().c_str());
        }
        std::fflush(stdout);
        ::_exit(rc);
    }
    return pid;
}

bool reaped_ok(pid_t pid) {
    int status = 0;
    kit::check(::waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[CLIENTS]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        const long clients = args.empty() ? 3 : kit::parse_long(args[0], 1, 50);
        int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
        auto remove_on_exit = kit::msg_guard(id);  // IPC_RMID also on an error path

        pid_t server = start([id] { return serve(id); });
        std::vector<pid_t> pids;
        for (long i = 1; i <= clients; ++i)
            pids.push_back(start([id, i] { return client(id, i + 1); }));
        bool ok = true;
        for (pid_t p : pids) ok = reaped_ok(p) && ok;

        Request stop{kRequestType, {0, 0}};
        kit::check(::msgsnd(id, &stop, sizeof stop.body, 0), "msgsnd");
        ok = reaped_ok(server) && ok;
        kit::check(::msgctl(id, IPC_RMID, nullptr), "msgctl(IPC_RMID)");
        remove_on_exit.dismiss();
        return ok ? 0 : 1;
    });
}
