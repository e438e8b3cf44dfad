// mq_poll.cpp — on Linux an mqd_t is a file descriptor, so poll (and select,
// epoll) can wait for a POSIX queue together with pipes and sockets: POLLIN
// when a message is waiting, POLLOUT when there is room.
//
// Run:    ./mq_poll
// Prints: poll before any message: 0 ready (timeout)
//         poll: POLLIN on the queue after the child sent "ping"
// The name is removed right after mq_open (the forked sender inherits the
// descriptor), so SIGINT, SIGTERM or even SIGKILL leave nothing behind.
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/names.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const std::string name = kit::unique_posix_name("mq-poll");
        mq_attr attr{};
        attr.mq_maxmsg = 4;
        attr.mq_msgsize = 64;
        mqd_t q =
            kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr), "mq_open");
        // Every user of the queue has it open (a forked child inherits q), so the
        // name can go now: a crash, even SIGKILL, leaves nothing behind.
        kit::check(::mq_unlink(name.c_str()), "mq_unlink");

        pollfd p{q, POLLIN, 0};  // an mqd_t is an int fd on Linux (not portable POSIX)
        int n = kit::check(::poll(&p, 1, 100), "poll");
        std::printf("poll before any message: %d ready%s\n", n, n == 0 ? " (timeout)" : "");

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(::mq_send(q, "ping", 4, 0) == 0 ? 0 : 1);

        do n = ::poll(&p, 1, 5000);
        while (n == -1 && errno == EINTR);
        kit::check(n, "poll");
        if (n == 1 && (p.revents & POLLIN)) {
            char buf[64];
            ssize_t len = kit::check(::mq_receive(q, buf, sizeof buf, nullptr), "mq_receive");
            std::printf("poll: POLLIN on the queue, then mq_receive got \"%.*s\"\n", int(len), buf);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");

        kit::check(::mq_close(q), "mq_close");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
