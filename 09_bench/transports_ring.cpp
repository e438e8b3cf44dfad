// transports_ring.cpp — a lock-free single-producer single-consumer byte ring per direction in
// shared memory (共享内存环形缓冲区), two rows:
//   shm-ring    the rings in a POSIX shared-memory object (shm_open)
//   mmap-file   the same rings in a regular file mapped MAP_SHARED
// A side that finds its ring empty (or full) spins while the peer runs on another CPU, then
// sleeps on a futex; head, tail and each sleeping flag live on their own cache line, apart from
// the payload.
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "bench.hpp"
#include "harness.hpp"
#include "kit/names.hpp"
#include "mapping.hpp"

namespace bench {
namespace {

constexpr std::uint32_t kRingBytes = 1u << 20;  // a power of two: positions wrap for free
// Spin only while the peer last ran on another CPU (the kernel's optimistic spinning asks the
// same question: is the lock owner running elsewhere?). Sharing our CPU, the peer cannot run
// while we spin, so we go straight to the futex.
// A pause's cost depends on the CPU, so the budget is timed (ring_spin_budget).
constexpr int kSpins = 2048;
int g_spins = kSpins;  // the method lab varies it: 0 (always sleep) or "never sleep"
struct Ring {
    alignas(64) std::atomic<std::uint32_t> head;  // bytes consumed (written by the consumer)
    alignas(64) std::atomic<std::uint32_t> tail;  // bytes produced (written by the producer)
    alignas(64) std::atomic<std::uint32_t> consumer_sleeps;   // 1 while it may sleep on tail
    alignas(64) std::atomic<std::uint32_t> producer_sleeps;   // 1 while it may sleep on head
    alignas(64) std::atomic<int> producer_cpu, consumer_cpu;  // where each side last waited, + 1
    alignas(64) std::byte data[kRingBytes];
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t val) {
    // Not FUTEX_PRIVATE_FLAG: the word lives in memory shared between processes.
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, val, nullptr, nullptr,
                     0);
}

// Waits until `word` differs from `seen`: spin first if the peer is on another CPU (it may be
// about to publish), then raise our own sleeping flag and sleep on the futex. Only the waiter
// writes its flag, so a publisher can never clear an announcement it has not answered.
void wait_while(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& sleeps,
                std::uint32_t seen, int my_cpu, const std::atomic<int>& peer_cpu) {
    if (peer_cpu.load(std::memory_order_relaxed) != my_cpu) {
        for (int i = 0; i < g_spins; ++i) {
            if (word.load(std::memory_order_acquire) != seen) return;
            pause_cpu();
        }
    }
    sleeps.store(1, std::memory_order_seq_cst);
    // Flag first, then look: either we see the new value, or the publisher sees our flag
    // (both are seq_cst). FUTEX_WAIT sleeps only if the word still equals `seen`.
    while (word.load(std::memory_order_seq_cst) == seen)
        if (futex(&word, FUTEX_WAIT, seen) == -1 && errno != EAGAIN && errno != EINTR)
            throw kit::SysError(errno, "futex wait");
    sleeps.store(0, std::memory_order_relaxed);
}

// Stores the new position, and wakes the peer if it has said it may be asleep.
void publish(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& sleeps,
             std::uint32_t value) {
    word.store(value, std::memory_order_seq_cst);
    if (sleeps.load(std::memory_order_seq_cst))  // only then pay for a system call
        kit::check(futex(&word, FUTEX_WAKE, 1), "futex wake");
}

// Positions are published in batches: a side stores its new tail (producer) or head (consumer)
// where the peer looks only every kPublishBytes, when the ring is full, before it waits for
// anything, and when it ends. Each store to a line the peer polls costs a cache-line transfer;
// per 1 KiB message that was a third of the copy's cost. No side ever waits with progress it
// has not published, so no one waits for progress that is only in the other's registers.
constexpr std::uint32_t kPublishBytes = 16u << 10;

class RingEndpoint final : public Endpoint {
public:
    RingEndpoint(Ring* tx, Ring* rx) : tx_(tx), rx_(rx) {}
    ~RingEndpoint() override {
        try {
            flush();  // the last messages sent, e.g. the stop mark
        } catch (...) {
        }
    }
    RingEndpoint(const RingEndpoint&) = delete;
    RingEndpoint& operator=(const RingEndpoint&) = delete;
    void send(std::span<const std::byte> msg) override {
        Ring& r = *tx_;
        while (!msg.empty()) {
            // Read the consumer's line only when our cached view says full: each read of a line
            // the other CPU writes is a cache miss.
            if (tail_ - peer_head_ == kRingBytes)
                peer_head_ = r.head.load(std::memory_order_acquire);
            const std::uint32_t head = peer_head_;
            if (tail_ - head == kRingBytes) {
                flush();
                wait_while(r.head, r.producer_sleeps, head, note_cpu(), r.consumer_cpu);
                continue;
            }
            const std::uint32_t at = tail_ % kRingBytes;
            const std::size_t n =
                std::min<std::size_t>({msg.size(), kRingBytes - (tail_ - head), kRingBytes - at});
            std::memcpy(r.data + at, msg.data(), n);
            tail_ += std::uint32_t(n);
            msg = msg.subspan(n);
            if (tail_ - published_tail_ >= kPublishBytes)
                publish(r.tail, r.consumer_sleeps, published_tail_ = tail_);
        }
    }
    void recv(std::span<std::byte> msg) override {
        Ring& r = *rx_;
        while (!msg.empty()) {
            if (peer_tail_ == head_) peer_tail_ = r.tail.load(std::memory_order_acquire);
            const std::uint32_t tail = peer_tail_;
            if (tail == head_) {
                flush();
                wait_while(r.tail, r.consumer_sleeps, tail, note_cpu(), r.producer_cpu);
                continue;
            }
            const std::uint32_t at = head_ % kRingBytes;
            const std::size_t n =
                std::min<std::size_t>({msg.size(), tail - head_, kRingBytes - at});
            std::memcpy(msg.data(), r.data + at, n);
            head_ += std::uint32_t(n);
            msg = msg.subspan(n);
            if (head_ - published_head_ >= kPublishBytes)
                publish(r.head, r.producer_sleeps, published_head_ = head_);
        }
    }

private:
    // Publishes what this side has produced on tx and consumed on rx but not yet told.
    void flush() {
        if (tail_ != published_tail_)
            publish(tx_->tail, tx_->consumer_sleeps, published_tail_ = tail_);
        if (head_ != published_head_)
            publish(rx_->head, rx_->producer_sleeps, published_head_ = head_);
    }

    // Where this process runs now (+1, so 0 means unknown), written where the peer looks: as
    // producer of our tx ring and consumer of our rx ring.
    int note_cpu() {
        const int cpu = ::sched_getcpu() + 1;
        if (cpu != cpu_) {  // written only when it changes: the line stays in the peer's cache
            cpu_ = cpu;
            tx_->producer_cpu.store(cpu, std::memory_order_relaxed);
            rx_->consumer_cpu.store(cpu, std::memory_order_relaxed);
        }
        return cpu;
    }

    Ring *tx_, *rx_;
    int cpu_ = 0;
    std::uint32_t tail_ = 0, published_tail_ = 0, peer_head_ = 0;  // our tx ring, as producer
    std::uint32_t head_ = 0, published_head_ = 0, peer_tail_ = 0;  // our rx ring, as consumer
};

class RingLink final : public Link {
public:
    // fd: a POSIX shared-memory object or a regular file, already sized for two rings.
    explicit RingLink(kit::Fd fd) : fd_(std::move(fd)), map_(fd_.get(), 2 * sizeof(Ring)) {
        // Start the rings' lifetimes (empty: every position 0) before fork, so both children
        // inherit constructed atomics rather than raw bytes.
        std::construct_at(reinterpret_cast<Ring*>(map_.data()));
        std::construct_at(reinterpret_cast<Ring*>(map_.data()) + 1);
    }
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        Ring* ab = std::launder(reinterpret_cast<Ring*>(map_.data()));
        return role == Role::a ? std::make_unique<RingEndpoint>(ab, ab + 1)
                               : std::make_unique<RingEndpoint>(ab + 1, ab);
    }

private:
    kit::Fd fd_;
    Mapping map_;
};

}  // namespace

void set_ring_spins(int pauses) { g_spins = pauses; }

SpinBudget ring_spin_budget() {
    // One pause costs ~10 ns on some cores and ~140 cycles (~40 ns) on Intel cores since Skylake,
    // so the budget is timed here, not assumed: the median of 21 timings of the whole spin.
    using Clock = std::chrono::steady_clock;
    std::vector<double> ns;
    for (int t = 0; t < 21; ++t) {
        const auto start = Clock::now();
        for (int i = 0; i < kSpins; ++i) pause_cpu();
        ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
    }
    std::sort(ns.begin(), ns.end());
    return {kSpins, ns[ns.size() / 2]};
}

// The name is removed (by its guard, on return) as soon as the mapping exists: the children
// inherit the mapping through fork, so no name outlives the setup, even if the run is killed.
std::unique_ptr<Link> make_shm_ring(std::size_t) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("bench-ring"));
    kit::Fd fd =
        sized(kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600),
                         "shm_open"),
              2 * sizeof(Ring));
    return std::make_unique<RingLink>(std::move(fd));
}

std::unique_ptr<Link> make_mmap_file(std::size_t) {
    auto path = kit::unlink_guard(kit::unique_temp_path("bench-ring.map"));
    kit::Fd fd =
        sized(kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600), "open"),
              2 * sizeof(Ring));
    return std::make_unique<RingLink>(std::move(fd));
}

}  // namespace bench
