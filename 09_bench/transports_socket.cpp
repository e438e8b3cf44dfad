// transports_socket.cpp — sockets (套接字): Unix stream, Unix datagram, socketpair, TCP loopback
// and UDP loopback. Every connection is made in the parent before fork (listen → connect →
// accept completes through the backlog), so no child races a peer that is not listening yet;
// addresses are unique paths and ephemeral ports, so two runs can share a machine.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>

#include "bench.hpp"
#include "kit/names.hpp"
#include "stream_endpoint.hpp"

namespace bench {
namespace {

kit::Fd make_socket(int domain, int type) {
    return kit::Fd(kit::check(::socket(domain, type | SOCK_CLOEXEC, 0), "socket"));
}

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    return a;
}

sockaddr_in loopback_any_port() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;  // port 0: the kernel picks a free one at bind()
}

template <class Addr>
void bind_to(int fd, const Addr& a) {
    kit::check(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), "bind");
}
template <class Addr>
void connect_to(int fd, const Addr& a) {
    kit::check(::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), "connect");
}
sockaddr_in bound_address(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    kit::check(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), "getsockname");
    return a;
}

// Two connected descriptors, one for each process; open() hands out one and closes the other.
class PairLink final : public Link {
public:
    PairLink(kit::Fd a, kit::Fd b) : a_(std::move(a)), b_(std::move(b)) {}
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        if (!one_process_) (role == Role::a ? b_ : a_).reset();
        return std::make_unique<StreamEndpoint>(std::move(role == Role::a ? a_ : b_), kit::Fd());
    }

private:
    kit::Fd a_, b_;
};

// A datagram keeps its boundaries: one send is one recv, of at most `piece` bytes here.
class DgramEndpoint final : public Endpoint {
public:
    DgramEndpoint(kit::Fd data, kit::Fd credit, std::size_t piece, std::uint64_t window)
        : data_(std::move(data)), credit_(std::move(credit)), piece_(piece), credits_{window} {}
    void send(std::span<const std::byte> msg) override {
        send_pieces(msg, piece_, [&](std::span<const std::byte> p) {
            while (credit_ && credits_.sender_must_wait()) {  // UDP drops what does not fit
                char c;
                if (::recv(credit_.get(), &c, 1, 0) != -1)
                    credits_.on_credit();
                else if (errno != EINTR)
                    throw kit::SysError(errno, "recv");
            }
            ssize_t n;
            while ((n = ::send(data_.get(), p.data(), p.size(), 0)) == -1 && errno == EINTR) {
            }
            if (kit::check(n, "send") != ssize_t(p.size()))
                throw std::runtime_error("send: datagram cut");
            ++credits_.sent;
        });
    }
    void recv(std::span<std::byte> msg) override {
        for (std::size_t off = 0; off < msg.size();) {
            const std::size_t want = std::min(piece_, msg.size() - off);
            ssize_t n = ::recv(data_.get(), msg.data() + off, want, 0);
            if (n == -1 && errno == EINTR) continue;
            if (kit::check(n, "recv") != ssize_t(want))
                throw std::runtime_error("recv: datagram of the wrong size");
            off += want;
            if (credit_ && credits_.receiver_owes_credit()) {
                const char c = 'c';
                while (::send(credit_.get(), &c, 1, 0) == -1)
                    if (errno != EINTR) throw kit::SysError(errno, "send");
            }
        }
    }

private:
    kit::Fd data_, credit_;
    std::size_t piece_;
    Credits credits_;
};

class DgramLink final : public Link {
public:
    DgramLink(kit::Fd a, kit::Fd b, kit::Fd ca, kit::Fd cb, std::size_t piece, std::uint64_t window)
        : a_(std::move(a)),
          b_(std::move(b)),
          ca_(std::move(ca)),
          cb_(std::move(cb)),
          piece_(piece),
          window_(window) {}
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        const bool is_a = role == Role::a;
        (is_a ? b_ : a_).reset(), (is_a ? cb_ : ca_).reset();
        return std::make_unique<DgramEndpoint>(std::move(is_a ? a_ : b_),
                                               std::move(is_a ? ca_ : cb_), piece_, window_);
    }

private:
    kit::Fd a_, b_, ca_, cb_;  // data sockets and (UDP only) credit sockets
    std::size_t piece_;
    std::uint64_t window_;
};

// Two UDP sockets on 127.0.0.1, each connected to the other's ephemeral port.
std::pair<kit::Fd, kit::Fd> udp_pair() {
    kit::Fd a = make_socket(AF_INET, SOCK_DGRAM), b = make_socket(AF_INET, SOCK_DGRAM);
    bind_to(a.get(), loopback_any_port());
    bind_to(b.get(), loopback_any_port());
    connect_to(a.get(), bound_address(b.get()));
    connect_to(b.get(), bound_address(a.get()));
    return {std::move(a), std::move(b)};
}

}  // namespace

std::unique_ptr<Link> make_socketpair(std::size_t) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
    return std::make_unique<PairLink>(kit::Fd(sv[0]), kit::Fd(sv[1]));
}

std::unique_ptr<Link> make_unix_stream(std::size_t) {
    auto path = kit::unlink_guard(kit::unique_temp_path("bench.sock"));  // gone once connected
    kit::Fd listener = make_socket(AF_UNIX, SOCK_STREAM),
            client = make_socket(AF_UNIX, SOCK_STREAM);
    bind_to(listener.get(), unix_address(path.name()));
    kit::check(::listen(listener.get(), 1), "listen");
    connect_to(client.get(), unix_address(path.name()));
    kit::Fd server(
        kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
    return std::make_unique<PairLink>(std::move(client), std::move(server));
}

std::unique_ptr<Link> make_tcp(std::size_t) {
    kit::Fd listener = make_socket(AF_INET, SOCK_STREAM),
            client = make_socket(AF_INET, SOCK_STREAM);
    bind_to(listener.get(), loopback_any_port());
    kit::check(::listen(listener.get(), 1), "listen");
    connect_to(client.get(), bound_address(listener.get()));
    kit::Fd server(
        kit::check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
    const int one = 1;  // send small messages at once instead of waiting to coalesce (Nagle)
    for (int fd : {client.get(), server.get()})
        kit::check(::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one),
                   "setsockopt TCP_NODELAY");
    return std::make_unique<PairLink>(std::move(client), std::move(server));
}

std::unique_ptr<Link> make_unix_dgram(std::size_t size) {
    auto pa = kit::unlink_guard(kit::unique_temp_path("bench-a.sock"));
    auto pb = kit::unlink_guard(kit::unique_temp_path("bench-b.sock"));
    kit::Fd a = make_socket(AF_UNIX, SOCK_DGRAM), b = make_socket(AF_UNIX, SOCK_DGRAM);
    bind_to(a.get(), unix_address(pa.name()));
    bind_to(b.get(), unix_address(pb.name()));
    connect_to(a.get(), unix_address(pb.name()));
    connect_to(b.get(), unix_address(pa.name()));
    // A connected Unix datagram sender blocks when the receiver's queue is full: no credits needed.
    return std::make_unique<DgramLink>(std::move(a), std::move(b), kit::Fd(), kit::Fd(),
                                       std::min<std::size_t>(size, 64 << 10), 0);
}

std::unique_ptr<Link> make_udp(std::size_t size) {
    auto [a, b] = udp_pair();
    auto [ca, cb] = udp_pair();
    const std::size_t piece =
        std::min<std::size_t>(size, 60 << 10);  // under UDP's 65507-byte limit
    const std::uint64_t window = std::clamp<std::uint64_t>((64 << 10) / (piece + 1024), 2, 64);
    return std::make_unique<DgramLink>(std::move(a), std::move(b), std::move(ca), std::move(cb),
                                       piece, window);
}

}  // namespace bench
