// stream_endpoint.hpp — the Endpoint of every byte-stream mechanism (pipe, FIFO, Unix stream
// socket, socketpair, TCP): write() until the whole message is taken, read() until it is whole.
// A byte stream keeps no message boundaries, so the receiver reads exactly the size it expects.
// How it waits is the process-wide kernel wait mode (bench.hpp), taken when it is opened.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

#include "bench.hpp"
#include "kit/fd.hpp"
#include "mapping.hpp"

namespace bench {

// For the spinning modes: O_NONBLOCK on fd, so a read() with nothing there fails with EAGAIN
// instead of sleeping. O_NONBLOCK is a flag of the open file, so it is set on descriptors this
// process alone uses (every end of a Link has one user).
inline void make_nonblocking(int fd, const KernelWaitMode& w) {
    if (w.how == KernelWait::block || fd < 0) return;
    const int flags = kit::check(::fcntl(fd, F_GETFL), "fcntl F_GETFL");
    kit::check(::fcntl(fd, F_SETFL, flags | O_NONBLOCK), "fcntl F_SETFL");
}

// One read() or write() on a nonblocking descriptor, retried as the mode says: spin retries
// EAGAIN after a pause instruction for ever; spin_then_block retries it w.tries times, then
// sleeps in poll() until fd is ready. Returns what the call returned (0: end of file).
template <class Call>
std::size_t io_waiting(int fd, short events, const KernelWaitMode& w, const char* what, Call call) {
    for (int tries = 0;;) {
        const ssize_t n = call();
        if (n >= 0) return std::size_t(n);
        if (errno == EINTR) continue;
        if (errno != EAGAIN) throw kit::SysError(errno, what);
        if (w.how == KernelWait::spin || ++tries < w.tries) {
            pause_cpu();
            continue;
        }
        pollfd p{fd, events, 0};
        if (::poll(&p, 1, -1) == -1 && errno != EINTR) throw kit::SysError(errno, "poll");
        tries = 0;
    }
}

// write_all and read_full for a nonblocking descriptor.
inline void write_all_waiting(int fd, std::span<const std::byte> data, const KernelWaitMode& w) {
    while (!data.empty())
        data = data.subspan(io_waiting(fd, POLLOUT, w, "write",
                                       [&] { return ::write(fd, data.data(), data.size()); }));
}
inline std::size_t read_full_waiting(int fd, std::span<std::byte> buf, const KernelWaitMode& w) {
    std::size_t got = 0;
    while (got < buf.size()) {
        const std::size_t n = io_waiting(
            fd, POLLIN, w, "read", [&] { return ::read(fd, buf.data() + got, buf.size() - got); });
        if (n == 0) break;
        got += n;
    }
    return got;
}

class StreamEndpoint final : public Endpoint {
public:
    // rx and tx may be the same descriptor (a socket); then pass tx as an empty Fd.
    StreamEndpoint(kit::Fd rx, kit::Fd tx)
        : rx_(std::move(rx)), tx_(std::move(tx)), wait_(kernel_wait()) {
        make_nonblocking(rx_.get(), wait_);
        make_nonblocking(tx_ ? tx_.get() : -1, wait_);
    }
    void send(std::span<const std::byte> msg) override {
        const int fd = tx_ ? tx_.get() : rx_.get();
        if (wait_.how != KernelWait::block) return write_all_waiting(fd, msg, wait_);
        kit::write_all(fd, msg);  // loops over short writes, EINTR
    }
    void recv(std::span<std::byte> msg) override {
        const std::size_t got = wait_.how == KernelWait::block
                                    ? kit::read_full(rx_.get(), msg)  // loops over short reads
                                    : read_full_waiting(rx_.get(), msg, wait_);
        if (got != msg.size()) throw std::runtime_error("the peer closed the stream mid-message");
    }

private:
    kit::Fd rx_, tx_;
    KernelWaitMode wait_;
};

}  // namespace bench
