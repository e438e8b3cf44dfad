// mq_priority.cpp — POSIX message queues have real priorities: mq_receive
// returns the oldest message of the HIGHEST priority; equal priorities come
// out in the order they were sent. Priorities run from 0 to
// sysconf(_SC_MQ_PRIO_MAX) - 1.
//
// Run:    ./mq_priority
// Prints: _SC_MQ_PRIO_MAX, then the receive order:
//         received: high(9) mid-1(5) mid-2(5) low-1(0) low-2(0)
// The name is removed right after mq_open (the forked sender inherits the
// descriptor), so SIGINT, SIGTERM or even SIGKILL leave nothing behind.
#include <fcntl.h>
#include <mqueue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

struct Sent {
    unsigned prio;
    std::string_view text;
};
constexpr std::array<Sent, 5> kSent{
    {{0, "low-1"}, {5, "mid-1"}, {9, "high"}, {5, "mid-2"}, {0, "low-2"}}};

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        const long prio_max = kit::check(::sysconf(_SC_MQ_PRIO_MAX), "sysconf");
        std::printf("_SC_MQ_PRIO_MAX = %ld (priorities 0..%ld)\n", prio_max, prio_max - 1);

        const std::string name = kit::unique_posix_name("mq-priority");
        mq_attr attr{};
        attr.mq_maxmsg = 8;
        attr.mq_msgsize = 32;
        mqd_t q =
            kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr), "mq_open");
        // Every user of the queue has it open (a forked child inherits q), so the
        // name can go now: a crash, even SIGKILL, leaves nothing behind.
        kit::check(::mq_unlink(name.c_str()), "mq_unlink");

        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // the sender, in send order
            for (const auto& s : kSent)
                if (::mq_send(q, s.text.data(), s.text.size(), s.prio) == -1) ::_exit(1);
            // One above the maximum is refused.
            bool refused =
                ::mq_send(q, "x", 1, static_cast<unsigned>(prio_max)) == -1 && errno == EINVAL;
            ::_exit(refused ? 0 : 2);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            std::printf("mq_send with priority %ld: EINVAL\n", prio_max);

        std::printf("sent:    ");
        for (const auto& s : kSent)
            std::printf(" %.*s(%u)", int(s.text.size()), s.text.data(), s.prio);
        std::printf("\nreceived:");
        for (std::size_t i = 0; i < kSent.size(); ++i) {
            char buf[32];  // at least mq_msgsize, or mq_receive fails with EMSGSIZE
            unsigned prio = 0;
            ssize_t n = kit::check(::mq_receive(q, buf, sizeof buf, &prio), "mq_receive");
            std::printf(" %.*s(%u)", int(n), buf, prio);
        }
        std::printf("\n");
        kit::check(::mq_close(q), "mq_close");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    });
}
