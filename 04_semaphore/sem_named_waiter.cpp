// sem_named_waiter.cpp — a POSIX named semaphore lets two unrelated programs
// meet by name: this one waits on it, sem_named_poster posts it. Neither
// is the other's parent; all they share is the string "/NAME".
//
// Run:    ./sem_named_waiter /demo & ./sem_named_poster /demo
// Prints: "waiter: opened /demo (value 0), waiting up to 10 s"
//         "waiter: woke up after a sem_post from another program"
// It removes the name (sem_unlink) before it ends, also when stopped by SIGINT
// or SIGTERM (then it exits 128 + the signal). SIGKILL cannot be caught: then
// /dev/shm/sem.demo stays until someone calls sem_unlink("/demo").
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

#include "kit/check.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;  // the signal that asked us to stop
void on_stop(int sig) { g_stop = sig; }

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "/NAME [SECONDS]", [](auto args) {
        if (args.empty() || args.size() > 2 || args[0].size() < 2 || args[0][0] != '/')
            throw kit::UsageError{"NAME must look like /something"};
        const std::string name(args[0]);
        const long seconds = args.size() == 2 ? kit::parse_long(args[1], 1, 3600) : 10;
        // No SA_RESTART: the signal interrupts sem_timedwait with EINTR.
        struct sigaction sa {};
        sa.sa_handler = on_stop;
        for (int sig : {SIGINT, SIGTERM}) kit::check(::sigaction(sig, &sa, nullptr), "sigaction");

        // O_CREAT without O_EXCL: whichever program starts first creates the
        // semaphore with value 0; the other opens the same one.
        sem_t* sem = kit::check(::sem_open(name.c_str(), O_CREAT, 0600, 0), SEM_FAILED, "sem_open");
        int value = 0;
        kit::check(::sem_getvalue(sem, &value), "sem_getvalue");
        std::printf("waiter: opened %s (value %d), waiting up to %ld s\n", name.c_str(), value,
                    seconds);
        std::fflush(stdout);

        // sem_timedwait takes an absolute CLOCK_REALTIME deadline, not a duration.
        timespec deadline{};
        kit::check(::clock_gettime(CLOCK_REALTIME, &deadline), "clock_gettime");
        deadline.tv_sec += seconds;
        int rc = 0;  // a stop signal that came before the wait is seen here, not lost
        while (g_stop == 0 && (rc = ::sem_timedwait(sem, &deadline)) == -1 && errno == EINTR) {
        }
        const int err = errno;
        // The name goes now; our handle stays usable until sem_close.
        kit::check(::sem_unlink(name.c_str()), "sem_unlink");
        kit::check(::sem_close(sem), "sem_close");
        if (g_stop != 0) {
            std::printf("waiter: stopped by signal %d, removed %s\n", int(g_stop), name.c_str());
            return 128 + int(g_stop);
        }
        if (rc == -1) throw kit::SysError(err, "sem_timedwait");
        std::printf("waiter: woke up after a sem_post from another program\n");
        return 0;
    });
}
