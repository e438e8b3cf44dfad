// transports_pipe.cpp — pipes (管道) and FIFOs (命名管道). A pipe carries one direction, so a
// ping-pong needs two: a→b and b→a. The FIFOs are opened by name after fork, the way unrelated
// processes meet; the open order (a: write then read, b: read then write) cannot deadlock.
//
// pipe-signal is how goldsborough/ipc-bench (note 000's table) runs its pipe and FIFO rows: the
// data goes through the pipe, and every hop is announced with a signal (kill() + sigwait()).
// Its round trip therefore costs a signal delivery each way on top of the pipe, and this row
// measures exactly that, so its figures can be compared like with like.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "bench.hpp"
#include "kit/names.hpp"
#include "stream_endpoint.hpp"

namespace bench {
namespace {

class PipeLink final : public Link {
public:
    PipeLink() : ab_(kit::make_pipe()), ba_(kit::make_pipe()) {}
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        // Close the ends this process does not use, so a peer that dies means EOF, not a hang.
        if (role == Role::a) {
            if (!one_process_) ab_.read.reset(), ba_.write.reset();
            return std::make_unique<StreamEndpoint>(std::move(ba_.read), std::move(ab_.write));
        }
        if (!one_process_) ab_.write.reset(), ba_.read.reset();
        return std::make_unique<StreamEndpoint>(std::move(ab_.read), std::move(ba_.write));
    }

private:
    kit::Pipe ab_, ba_;  // made with pipe2(); the other ends close when this Link dies
};

// Sends the bytes, then the wake-up; the receiver waits for the signal, then reads. A message
// larger than the pipe's capacity cannot sit in it whole, so then the wake-up goes first.
class SignalPipeEndpoint final : public Endpoint {
public:
    SignalPipeEndpoint(kit::Fd rx, kit::Fd tx, pid_t peer)
        : rx_(std::move(rx)),
          tx_(std::move(tx)),
          peer_(peer),
          capacity_(
              std::size_t(kit::check(::fcntl(tx_.get(), F_GETPIPE_SZ), "fcntl F_GETPIPE_SZ"))) {
        sigemptyset(&wake_);
        sigaddset(&wake_, SIGUSR1);
    }
    void send(std::span<const std::byte> msg) override {
        if (msg.size() > capacity_) kit::check(::kill(peer_, SIGUSR1), "kill");
        kit::write_all(tx_.get(), msg);
        if (msg.size() <= capacity_) kit::check(::kill(peer_, SIGUSR1), "kill");
    }
    void recv(std::span<std::byte> msg) override {
        int sig = 0;
        kit::check_err(::sigwait(&wake_, &sig), "sigwait");  // SIGUSR1 is blocked: it waits here
        if (kit::read_full(rx_.get(), msg) != msg.size())
            throw std::runtime_error("the peer closed the pipe mid-message");
    }

private:
    kit::Fd rx_, tx_;
    pid_t peer_;
    std::size_t capacity_;
    sigset_t wake_;
};

// SIGUSR1 stays blocked in the parent while the Link lives, so both children inherit the mask
// through fork: no wake-up can kill a child that has not reached sigwait() yet. Standard
// signals do not queue (two pending SIGUSR1 are one), which is why this row is a ping-pong only.
class SignalPipeLink final : public Link {
public:
    SignalPipeLink() : ab_(kit::make_pipe()), ba_(kit::make_pipe()) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        kit::check_err(::pthread_sigmask(SIG_BLOCK, &set, &old_), "pthread_sigmask");
    }
    ~SignalPipeLink() override { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
    SignalPipeLink(const SignalPipeLink&) = delete;
    SignalPipeLink& operator=(const SignalPipeLink&) = delete;
    std::unique_ptr<Endpoint> open(Role role, pid_t peer) override {
        if (role == Role::a) {
            ab_.read.reset(), ba_.write.reset();
            return std::make_unique<SignalPipeEndpoint>(std::move(ba_.read), std::move(ab_.write),
                                                        peer);
        }
        ab_.write.reset(), ba_.read.reset();
        return std::make_unique<SignalPipeEndpoint>(std::move(ab_.read), std::move(ba_.write),
                                                    peer);
    }

private:
    kit::Pipe ab_, ba_;
    sigset_t old_;
};

class FifoLink final : public Link {
public:
    FifoLink()
        : ab_(kit::unlink_guard(kit::unique_temp_path("bench-ab"))),
          ba_(kit::unlink_guard(kit::unique_temp_path("bench-ba"))) {
        kit::check(::mkfifo(ab_.c_str(), 0600), "mkfifo");
        kit::check(::mkfifo(ba_.c_str(), 0600), "mkfifo");
    }
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        if (role == Role::a) {
            kit::Fd tx(kit::check(::open(ab_.c_str(), O_WRONLY | O_CLOEXEC), "open fifo"));
            kit::Fd rx(kit::check(::open(ba_.c_str(), O_RDONLY | O_CLOEXEC), "open fifo"));
            return std::make_unique<StreamEndpoint>(std::move(rx), std::move(tx));
        }
        kit::Fd rx(kit::check(::open(ab_.c_str(), O_RDONLY | O_CLOEXEC), "open fifo"));
        kit::Fd tx(kit::check(::open(ba_.c_str(), O_WRONLY | O_CLOEXEC), "open fifo"));
        // Each open above returned only once a opened the other end, so all four ends are open:
        // the names have done their job and go now, not when the cell ends.
        kit::check(::unlink(ab_.c_str()), "unlink fifo");
        kit::check(::unlink(ba_.c_str()), "unlink fifo");
        return std::make_unique<StreamEndpoint>(std::move(rx), std::move(tx));
    }

private:
    kit::NameGuard ab_,
        ba_;  // b unlinks them once both are open; the parent's guards cover a failure
};

}  // namespace

std::unique_ptr<Link> make_pipe(std::size_t) { return std::make_unique<PipeLink>(); }
std::unique_ptr<Link> make_pipe_signal(std::size_t) { return std::make_unique<SignalPipeLink>(); }
std::unique_ptr<Link> make_fifo(std::size_t) { return std::make_unique<FifoLink>(); }

}  // namespace bench
