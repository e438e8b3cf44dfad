// mq_timed_receive.cpp — bounded waits on a POSIX queue: mq_timedreceive
// gives up with ETIMEDOUT at an absolute CLOCK_REALTIME deadline; with
// O_NONBLOCK an empty queue gives EAGAIN at once (and so does a full one to
// mq_send). A message that arrives before the deadline is returned at once.
//
// Run:    ./mq_timed_receive
// Prints: mq_timedreceive on an empty queue (deadline +200 ms): ETIMEDOUT
//         mq_receive with O_NONBLOCK on an empty queue: EAGAIN ...
// The name is removed once both descriptors are open (the forked sender
// inherits them), so SIGINT, SIGTERM or even SIGKILL leave nothing behind.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

// mq_timed* take an absolute time on CLOCK_REALTIME, not a duration.
timespec realtime_in(long ms) {
    timespec ts{};
    kit::check(::clock_gettime(CLOCK_REALTIME, &ts), "clock_gettime");
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1'000'000;
    if (ts.tv_nsec >= 1'000'000'000) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1'000'000'000;
    }
    return ts;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const std::string name = kit::unique_posix_name("mq-timed");
        mq_attr attr{};
        attr.mq_maxmsg = 2;
        attr.mq_msgsize = 64;
        mqd_t q =
            kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr), "mq_open");
        // A second descriptor for the same queue, non-blocking (mq_setattr could switch q too).
        mqd_t nb = ::mq_open(name.c_str(), O_RDWR | O_NONBLOCK);
        // Every user of the queue has it open (a forked child inherits q), so the
        // name can go now: a crash, even SIGKILL, leaves nothing behind.
        kit::check(::mq_unlink(name.c_str()), "mq_unlink");
        kit::check(nb, "mq_open");
        char buf[64];

        timespec deadline = realtime_in(200);
        if (::mq_timedreceive(q, buf, sizeof buf, nullptr, &deadline) == -1 && errno == ETIMEDOUT)
            std::printf("mq_timedreceive on an empty queue (deadline +200 ms): ETIMEDOUT\n");

        if (::mq_receive(nb, buf, sizeof buf, nullptr) == -1 && errno == EAGAIN)
            std::printf("mq_receive with O_NONBLOCK on an empty queue: EAGAIN\n");
        kit::check(::mq_send(nb, "1", 1, 0), "mq_send");
        kit::check(::mq_send(nb, "2", 1, 0), "mq_send");
        if (::mq_send(nb, "3", 1, 0) == -1 && errno == EAGAIN)
            std::printf("mq_send with O_NONBLOCK on a full queue (mq_maxmsg=2): EAGAIN\n");
        deadline = realtime_in(200);
        if (::mq_timedsend(q, "3", 1, 0, &deadline) == -1 && errno == ETIMEDOUT)
            std::printf("mq_timedsend on a full queue (deadline +200 ms): ETIMEDOUT\n");
        for (int i = 0; i < 2; ++i)
            kit::check(::mq_receive(nb, buf, sizeof buf, nullptr), "mq_receive");

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) ::_exit(::mq_send(q, "from child", 10, 0) == 0 ? 0 : 1);
        deadline = realtime_in(5000);
        ssize_t n = kit::check(::mq_timedreceive(q, buf, sizeof buf, nullptr, &deadline),
                               "mq_timedreceive");
        std::printf("mq_timedreceive (deadline +5 s) got \"%.*s\" from the child\n", int(n), buf);
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");

        kit::check(::mq_close(nb), "mq_close");
        kit::check(::mq_close(q), "mq_close");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
