// mq_notify_signal.cpp — mq_notify asks the kernel for a signal when a
// message arrives in an EMPTY queue. The registration is one-shot: after one
// notification it is gone, and the next message brings no signal until the
// process calls mq_notify again.
//
// Run:    ./mq_notify_signal
// Prints: message 1: SIGUSR1 (si_code SI_MESGQ, sent by pid <child>)
//         message 2: no signal (not re-armed)
//         message 3: SIGUSR1 (si_code SI_MESGQ, sent by pid <child>)  after re-arming
// The name is removed right after mq_open (the forked senders inherit the
// descriptor), so SIGINT, SIGTERM or even SIGKILL leave nothing behind.
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "kit/check.hpp"
#include "kit/names.hpp"

namespace {

void arm(mqd_t q) {
    sigevent sev{};
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    kit::check(::mq_notify(q, &sev), "mq_notify");
}

// Another process sends one message; returns once it has exited.
void child_sends(mqd_t q, const char* text) {
    std::fflush(stdout);
    pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) ::_exit(::mq_send(q, text, 1, 0) == 0 ? 0 : 1);
    int status = 0;
    kit::check(::waitpid(pid, &status, 0), "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw kit::SysError(EIO, "child mq_send");
}

// Waits up to ms for SIGUSR1 and says what came; then empties the queue.
void report(mqd_t q, const char* what, long ms) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    timespec timeout{ms / 1000, (ms % 1000) * 1'000'000};
    siginfo_t info{};
    int sig;
    do sig = ::sigtimedwait(&set, &info, &timeout);
    while (sig == -1 && errno == EINTR);
    if (sig == -1 && errno != EAGAIN) throw kit::SysError(errno, "sigtimedwait");
    if (sig == SIGUSR1)
        std::printf("%s: SIGUSR1 (si_code %s, sent by pid %d)\n", what,
                    info.si_code == SI_MESGQ ? "SI_MESGQ" : "other", int(info.si_pid));
    else
        std::printf("%s: no signal within %ld ms\n", what, ms);
    char buf[64];
    kit::check(::mq_receive(q, buf, sizeof buf, nullptr), "mq_receive");  // empty again
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        // Blocked, so the signal waits for sigtimedwait instead of killing us.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        kit::check_err(::pthread_sigmask(SIG_BLOCK, &set, nullptr), "pthread_sigmask");

        const std::string name = kit::unique_posix_name("mq-notify");
        mq_attr attr{};
        attr.mq_maxmsg = 4;
        attr.mq_msgsize = 64;
        mqd_t q =
            kit::check(::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr), "mq_open");
        // Every user of the queue has it open (a forked child inherits q), so the
        // name can go now: a crash, even SIGKILL, leaves nothing behind.
        kit::check(::mq_unlink(name.c_str()), "mq_unlink");

        arm(q);
        child_sends(q, "1");
        report(q, "message 1 (armed)", 2000);
        child_sends(q, "2");
        report(q, "message 2 (not re-armed)", 200);
        arm(q);
        child_sends(q, "3");
        report(q, "message 3 (re-armed)", 2000);

        kit::check(::mq_close(q), "mq_close");
        return 0;
    });
}
