// bench.hpp — the parts of ipc_bench: a transport interface every mechanism implements,
// the registry of mechanisms, and what the harness measures.
//
// A transport is two things. A Link holds the kernel objects of one duplex channel and is
// created before fork (so nothing has to be looked up by a racing peer). After fork each
// process calls open() and gets its own Endpoint, which sends and receives whole messages.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

enum class Role { a, b };  // a starts every exchange, b answers

// One process's end of a duplex channel.
class Endpoint {
public:
    virtual ~Endpoint() = default;
    // Sends one whole message; blocks until the mechanism has taken it.
    virtual void send(std::span<const std::byte> msg) = 0;
    // Receives one whole message of exactly msg.size() bytes, in the order sent.
    virtual void recv(std::span<std::byte> msg) = 0;
};

// The kernel objects of one channel; made in the parent, shared by fork.
class Link {
public:
    virtual ~Link() = default;
    // Called once in each child after fork; peer is the other child's pid.
    [[nodiscard]] virtual std::unique_ptr<Endpoint> open(Role role, pid_t peer) = 0;
    // Both roles will be opened in one process (the method lab's threads): open() then leaves
    // the other role's descriptors in place instead of closing them. Rows the lab runs honour it.
    void share_one_process() { one_process_ = true; }

protected:
    bool one_process_ = false;
};

// One row of the tables: what is measured, never what others measured (quoted figures from
// other benchmarks live in the report, report_text.cpp).
struct Mechanism {
    std::string_view name;        // the name --only takes
    std::string_view label;       // the table's row label
    std::size_t fixed_size = 0;   // 0: any size; else every message is exactly this big
    bool streams = true;          // false: a ping-pong only (a counter or a flag, not a queue)
    bool reference = false;       // a reference row, not an IPC mechanism
    bool needs_two_cpus = false;  // spins without ever sleeping
    std::unique_ptr<Link> (*make)(std::size_t size) = nullptr;  // null: memcpy, one process
};

[[nodiscard]] std::span<const Mechanism> mechanisms();
[[nodiscard]] const Mechanism* find_mechanism(std::string_view name);

// The transports, one family per file (transports_*.cpp).
std::unique_ptr<Link> make_pipe(std::size_t);
std::unique_ptr<Link> make_pipe_signal(std::size_t);
std::unique_ptr<Link> make_fifo(std::size_t);
std::unique_ptr<Link> make_sysv_mq(std::size_t);
std::unique_ptr<Link> make_posix_mq(std::size_t);
std::unique_ptr<Link> make_unix_stream(std::size_t);
std::unique_ptr<Link> make_unix_dgram(std::size_t);
std::unique_ptr<Link> make_socketpair(std::size_t);
std::unique_ptr<Link> make_tcp(std::size_t);
std::unique_ptr<Link> make_udp(std::size_t);
std::unique_ptr<Link> make_shm_sem(std::size_t);
std::unique_ptr<Link> make_shm_ring(std::size_t);
// How many pauses the rings spin before they sleep (default 2,048; the method lab varies it).
void set_ring_spins(int pauses);
// For the tests: how often this process's ring consumers entered a spin and how often they
// called FUTEX_WAIT (a plain load and store each, no locked instruction: two threads of one
// process may lose a count, never invent one), and the ring's shape.
struct RingWaits {
    std::uint64_t spins, sleeps;
};
[[nodiscard]] RingWaits ring_waits();
struct RingShape {
    std::uint32_t lines;       // per direction
    std::size_t line_payload;  // payload bytes per line
};
[[nodiscard]] RingShape ring_shape();
// How the kernel mechanisms' endpoints (every byte stream, the eventfd) wait for data; read when
// an endpoint is opened. block: the plain blocking read() and write() (the default). spin: the
// descriptor made O_NONBLOCK, EAGAIN retried in a busy loop. spin_then_block: `tries` nonblocking
// attempts, then poll() sleeps until the descriptor is ready.
enum class KernelWait { block, spin, spin_then_block };
struct KernelWaitMode {
    KernelWait how = KernelWait::block;
    int tries = 0;
};
void set_kernel_wait(KernelWait how, int tries = 0);
[[nodiscard]] KernelWaitMode kernel_wait();
std::unique_ptr<Link> make_mmap_file(std::size_t);
std::unique_ptr<Link> make_rt_signal(std::size_t);
std::unique_ptr<Link> make_eventfd(std::size_t);
std::unique_ptr<Link> make_cache_line(std::size_t);

// Flow control for mechanisms that drop (UDP) or refuse (sigqueue → EAGAIN) when the receiver
// falls behind: the sender may run `window` messages ahead; the receiver returns one credit
// for every window/2 messages it has taken.
struct Credits {
    std::uint64_t window;
    std::uint64_t sent = 0, credited = 0, received = 0;
    [[nodiscard]] bool sender_must_wait() const noexcept { return sent - credited >= window; }
    void on_credit() noexcept { credited += window / 2; }
    [[nodiscard]] bool receiver_owes_credit() noexcept { return ++received % (window / 2) == 0; }
};

// Sends msg as pieces of at most `piece` bytes: for mechanisms with a size limit per message
// (a System V or POSIX queue's msgmax, a datagram, a signal's 8-byte payload).
template <class SendPiece>
void send_pieces(std::span<const std::byte> msg, std::size_t piece, SendPiece&& send_piece) {
    for (std::size_t off = 0; off < msg.size(); off += piece)
        send_piece(msg.subspan(off, std::min(piece, msg.size() - off)));
}

}  // namespace bench
