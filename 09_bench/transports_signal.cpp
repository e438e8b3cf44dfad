// transports_signal.cpp — two mechanisms that carry a number, not a buffer:
//   rt-signal  real-time signals (实时信号) sent with sigqueue(): the payload is the 8-byte
//              union sigval, so each message is 8 bytes. Received synchronously with
//              sigwaitinfo() (the signals are blocked, no handler runs). Real-time signals
//              queue in order, but the queue is bounded (RLIMIT_SIGPENDING, shared by every
//              process of the user) and sigqueue fails with EAGAIN when it is full, so the
//              sender runs at most a window ahead and the receiver returns credits as a
//              second real-time signal.
//   eventfd    an eventfd (事件通知) per direction: write() adds an 8-byte value to a counter,
//              read() returns the counter and resets it. Writes coalesce, so it is a wake-up,
//              not a queue: this row is a ping-pong only. It waits as the kernel wait mode
//              says (bench.hpp): a blocking read(), spinning on EAGAIN, or spinning then poll().
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "bench.hpp"
#include "kit/fd.hpp"
#include "stream_endpoint.hpp"

namespace bench {
namespace {

KernelWaitMode g_kernel_wait;  // the process-wide kernel wait mode: block unless the lab says

int data_signal() { return SIGRTMIN; }
int credit_signal() { return SIGRTMIN + 1; }

std::uint64_t wait_for(int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    siginfo_t info;
    while (::sigwaitinfo(&set, &info) == -1)
        if (errno != EINTR) throw kit::SysError(errno, "sigwaitinfo");
    return reinterpret_cast<std::uintptr_t>(info.si_value.sival_ptr);
}

void queue_to(pid_t pid, int sig, std::uint64_t value) {
    sigval v{};
    v.sival_ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(value));
    kit::check(::sigqueue(pid, sig, v), "sigqueue");
}

class SignalEndpoint final : public Endpoint {
public:
    explicit SignalEndpoint(pid_t peer) : peer_(peer) {}
    void send(std::span<const std::byte> msg) override {
        while (credits_.sender_must_wait()) {
            (void)wait_for(credit_signal());
            credits_.on_credit();
        }
        std::uint64_t value = 0;
        std::memcpy(&value, msg.data(), sizeof value);
        queue_to(peer_, data_signal(), value);
        ++credits_.sent;
    }
    void recv(std::span<std::byte> msg) override {
        const std::uint64_t value = wait_for(data_signal());
        std::memcpy(msg.data(), &value, sizeof value);
        if (credits_.receiver_owes_credit()) queue_to(peer_, credit_signal(), 0);
    }

private:
    pid_t peer_;
    Credits credits_{32};
};

// Blocks the two signals in the parent while the Link lives, so both children inherit the
// mask from fork: no signal can reach a child before it is ready to take it.
class SignalLink final : public Link {
public:
    SignalLink() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, data_signal());
        sigaddset(&set, credit_signal());
        kit::check_err(::pthread_sigmask(SIG_BLOCK, &set, &old_), "pthread_sigmask");
    }
    ~SignalLink() override { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
    SignalLink(const SignalLink&) = delete;
    SignalLink& operator=(const SignalLink&) = delete;
    std::unique_ptr<Endpoint> open(Role, pid_t peer) override {
        return std::make_unique<SignalEndpoint>(peer);
    }

private:
    sigset_t old_;
};

class EventfdEndpoint final : public Endpoint {
public:
    EventfdEndpoint(kit::Fd tx, kit::Fd rx)
        : tx_(std::move(tx)), rx_(std::move(rx)), wait_(kernel_wait()) {
        make_nonblocking(tx_.get(), wait_);
        make_nonblocking(rx_.get(), wait_);
    }
    void send(std::span<const std::byte> msg) override {
        std::uint64_t value = 0;
        std::memcpy(&value, msg.data(), sizeof value);
        if (value >= UINT64_MAX - 1) throw std::runtime_error("eventfd: value out of range");
        const auto bytes = std::as_bytes(std::span(&++value, 1));  // +1: adding 0 wakes no one
        if (wait_.how != KernelWait::block) return write_all_waiting(tx_.get(), bytes, wait_);
        kit::write_all(tx_.get(), bytes);
    }
    void recv(std::span<std::byte> msg) override {
        std::uint64_t value = 0;
        const auto bytes = std::as_writable_bytes(std::span(&value, 1));
        const std::size_t got = wait_.how == KernelWait::block
                                    ? kit::read_full(rx_.get(), bytes)
                                    : read_full_waiting(rx_.get(), bytes, wait_);
        if (got != sizeof value) throw std::runtime_error("eventfd: short read");
        --value;
        std::memcpy(msg.data(), &value, sizeof value);
    }

private:
    kit::Fd tx_, rx_;
    KernelWaitMode wait_;
};

class EventfdLink final : public Link {
public:
    EventfdLink()
        : ab_(kit::check(::eventfd(0, EFD_CLOEXEC), "eventfd")),
          ba_(kit::check(::eventfd(0, EFD_CLOEXEC), "eventfd")) {}
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        // Each process takes both counters; two roles in one process each get their own copy.
        auto take = [this](kit::Fd& fd) {
            return one_process_ ? kit::Fd(kit::check(::dup(fd.get()), "dup")) : std::move(fd);
        };
        if (role == Role::a) return std::make_unique<EventfdEndpoint>(take(ab_), take(ba_));
        return std::make_unique<EventfdEndpoint>(take(ba_), take(ab_));
    }

private:
    kit::Fd ab_, ba_;
};

}  // namespace

void set_kernel_wait(KernelWait how, int tries) { g_kernel_wait = {how, tries}; }
KernelWaitMode kernel_wait() { return g_kernel_wait; }

std::unique_ptr<Link> make_rt_signal(std::size_t) { return std::make_unique<SignalLink>(); }
std::unique_ptr<Link> make_eventfd(std::size_t) { return std::make_unique<EventfdLink>(); }

}  // namespace bench
