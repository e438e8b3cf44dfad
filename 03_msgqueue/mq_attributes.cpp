// mq_attributes.cpp — a POSIX queue's attributes (mq_getattr) and the
// system limits in /proc/sys/fs/mqueue: a queue holds at most mq_maxmsg
// messages of at most mq_msgsize bytes; the receive buffer must be at least
// mq_msgsize (EMSGSIZE); asking for more than msg_max fails with EINVAL
// unless the process has CAP_SYS_RESOURCE.
//
// Run:    ./mq_attributes
// Prints: the limits, the default attributes, then one line per error.
// Each name is removed right after its mq_open, so SIGINT, SIGTERM or even
// SIGKILL leave nothing behind.
#include <fcntl.h>
#include <mqueue.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"

namespace {

// Tries to create a queue with these attributes; returns 0 or the errno.
int try_create(long maxmsg, long msgsize) {
    const std::string name = kit::unique_posix_name("mq-attr");
    mq_attr attr{};
    attr.mq_maxmsg = maxmsg;
    attr.mq_msgsize = msgsize;
    mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == mqd_t(-1)) return errno;
    kit::check(::mq_unlink(name.c_str()), "mq_unlink");
    kit::check(::mq_close(q), "mq_close");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        for (const char* f :
             {"msg_default", "msg_max", "msgsize_default", "msgsize_max", "queues_max"}) {
            auto v = kit::read_long_file(std::string("/proc/sys/fs/mqueue/") + f);
            std::printf("/proc/sys/fs/mqueue/%-15s = %ld\n", f, v.value_or(-1));
        }

        // No attributes: the queue gets msg_default and msgsize_default.
        const std::string name = kit::unique_posix_name("mq-attr");
        mqd_t q = kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, nullptr),
                             "mq_open");
        kit::check(::mq_unlink(name.c_str()), "mq_unlink");  // q stays usable; nothing can leak
        mq_attr attr{};
        kit::check(::mq_getattr(q, &attr), "mq_getattr");
        std::printf("mq_getattr: mq_maxmsg=%ld mq_msgsize=%ld mq_curmsgs=%ld\n", attr.mq_maxmsg,
                    attr.mq_msgsize, attr.mq_curmsgs);

        kit::check(::mq_send(q, "hi", 2, 0), "mq_send");
        char small[16];
        if (::mq_receive(q, small, sizeof small, nullptr) == -1 && errno == EMSGSIZE)
            std::printf(
                "mq_receive with a %zu-byte buffer: EMSGSIZE (the message is only 2 bytes)\n",
                sizeof small);
        std::string big(static_cast<std::size_t>(attr.mq_msgsize) + 1, 'x');
        if (::mq_send(q, big.data(), big.size(), 0) == -1 && errno == EMSGSIZE)
            std::printf("mq_send of mq_msgsize+1 bytes: EMSGSIZE\n");
        kit::check(::mq_close(q), "mq_close");

        const long msg_max = kit::read_long_file("/proc/sys/fs/mqueue/msg_max").value_or(10);
        const long size_max = kit::read_long_file("/proc/sys/fs/mqueue/msgsize_max").value_or(8192);
        int err = try_create(msg_max + 1, 64);
        std::printf("mq_open with mq_maxmsg = msg_max+1: %s\n",
                    err ? std::strerror(err) : "created");
        err = try_create(1, size_max + 1);
        std::printf("mq_open with mq_msgsize = msgsize_max+1: %s\n",
                    err ? std::strerror(err) : "created");
        err = try_create(0, 64);
        std::printf("mq_open with mq_maxmsg = 0: %s\n", err ? std::strerror(err) : "created");
        return 0;
    });
}
