// transports_pipe.cpp — pipes (管道) and FIFOs (命名管道). A pipe carries one direction, so a
// ping-pong needs two: a→b and b→a. The FIFOs are opened by name after fork, the way unrelated
// processes meet; the open order (a: write then read, b: read then write) cannot deadlock.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
            ab_.read.reset(), ba_.write.reset();
            return std::make_unique<StreamEndpoint>(std::move(ba_.read), std::move(ab_.write));
        }
        ab_.write.reset(), ba_.read.reset();
        return std::make_unique<StreamEndpoint>(std::move(ab_.read), std::move(ba_.write));
    }

private:
    kit::Pipe ab_, ba_;  // made with pipe2(); the other ends close when this Link dies
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
    kit::NameGuard ab_, ba_;  // b unlinks them once both are open; the parent's guards cover a failure
};

}  // namespace

std::unique_ptr<Link> make_pipe(std::size_t) { return std::make_unique<PipeLink>(); }
std::unique_ptr<Link> make_fifo(std::size_t) { return std::make_unique<FifoLink>(); }

}  // namespace bench
