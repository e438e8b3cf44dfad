// signal_payload.cpp — how much data a signal carries. A signal sent with
// sigqueue() carries one union sigval: an int or a pointer, 8 bytes on
// 64-bit Linux (and a pointer means nothing in another address space). A
// 100-byte message therefore needs 13 signals, each a system call and a
// delivery, each taking a slot of RLIMIT_SIGPENDING — and sent as bits over
// SIGUSR1/SIGUSR2 it is destroyed by coalescing.
//
// Run:    ./signal_payload
// Prints: sizeof(union sigval) = 8
//         real-time: 100-byte message sent as 13 sigqueue() calls, received intact: yes
//         standard:  800 bits sent as SIGUSR1/SIGUSR2, received 2 signals
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"

namespace {

constexpr std::size_t kLen = 100;
constexpr std::size_t kChunks = (kLen + sizeof(sigval) - 1) / sizeof(sigval);

// Takes every signal of `set` that is pending now; returns how many.
int drain(const sigset_t& set, std::array<char, kChunks * sizeof(sigval)>* out) {
    int got = 0;
    timespec zero{0, 0};
    siginfo_t info{};
    while (::sigtimedwait(&set, &info, &zero) > 0) {
        if (out && std::size_t(got) < kChunks)
            std::memcpy(out->data() + got * sizeof(sigval), &info.si_value, sizeof(sigval));
        ++got;
    }
    if (errno != EAGAIN) throw kit::SysError(errno, "sigtimedwait");
    return got;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        std::array<char, kChunks * sizeof(sigval)> message{};
        for (std::size_t i = 0; i < kLen; ++i) message[i] = char('a' + i % 26);

        sigset_t rt, std_sigs;
        sigemptyset(&rt);
        sigaddset(&rt, SIGRTMIN);
        sigemptyset(&std_sigs);
        sigaddset(&std_sigs, SIGUSR1);
        sigaddset(&std_sigs, SIGUSR2);
        sigset_t all = rt;
        sigaddset(&all, SIGUSR1);
        sigaddset(&all, SIGUSR2);
        kit::check(::sigprocmask(SIG_BLOCK, &all, nullptr), "sigprocmask");  // receiver is busy

        const pid_t me = ::getpid();
        std::fflush(stdout);
        pid_t pid = kit::check(::fork(), "fork");
        if (pid == 0) {  // the sender
            for (std::size_t c = 0; c < kChunks; ++c) {
                sigval v{};
                std::memcpy(&v, message.data() + c * sizeof(sigval), sizeof v);
                if (::sigqueue(me, SIGRTMIN, v) == -1) ::_exit(1);
            }
            for (std::size_t i = 0; i < kLen * 8; ++i) {
                const bool bit = (message[i / 8] >> (i % 8)) & 1;
                if (::kill(me, bit ? SIGUSR2 : SIGUSR1) == -1) ::_exit(1);
            }
            ::_exit(0);
        }
        int status = 0;
        kit::check(::waitpid(pid, &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw kit::SysError(EIO, "sender");

        std::array<char, kChunks * sizeof(sigval)> received{};
        const int rt_got = drain(rt, &received);
        const int std_got = drain(std_sigs, nullptr);
        std::printf("sizeof(union sigval) = %zu\n", sizeof(sigval));
        const bool intact = std::equal(message.begin(), message.begin() + kLen, received.begin());
        std::printf(
            "real-time: %zu-byte message sent as %d sigqueue() calls, received intact: %s\n", kLen,
            rt_got, intact ? "yes" : "no");
        std::printf("standard:  %zu bits sent as SIGUSR1/SIGUSR2, received %d signals\n", kLen * 8,
                    std_got);
        return 0;
    });
}
