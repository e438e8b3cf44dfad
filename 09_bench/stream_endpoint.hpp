// stream_endpoint.hpp — the Endpoint of every byte-stream mechanism (pipe, FIFO, Unix stream
// socket, socketpair, TCP): write() until the whole message is taken, read() until it is whole.
// A byte stream keeps no message boundaries, so the receiver reads exactly the size it expects.
#pragma once

#include <stdexcept>
#include <utility>

#include "bench.hpp"
#include "kit/fd.hpp"

namespace bench {

class StreamEndpoint final : public Endpoint {
public:
    // rx and tx may be the same descriptor (a socket); then pass tx as an empty Fd.
    StreamEndpoint(kit::Fd rx, kit::Fd tx) : rx_(std::move(rx)), tx_(std::move(tx)) {}
    void send(std::span<const std::byte> msg) override {
        kit::write_all(tx_ ? tx_.get() : rx_.get(), msg);  // loops over short writes, EINTR
    }
    void recv(std::span<std::byte> msg) override {
        if (kit::read_full(rx_.get(), msg) != msg.size())  // loops over short reads, EINTR
            throw std::runtime_error("the peer closed the stream mid-message");
    }

private:
    kit::Fd rx_, tx_;
};

}  // namespace bench
