// transports_ring.cpp — a lock-free single-producer single-consumer ring per direction in
// shared memory (共享内存环形缓冲区), two rows:
//   shm-ring    the rings in a POSIX shared-memory object (shm_open)
//   mmap-file   the same rings in a regular file mapped MAP_SHARED
//
// The ring is an array of 64-byte cache lines. Each line carries 60 bytes of payload and, in its
// last 4 bytes, a stamp: the line's position in the stream, plus one. The producer copies a
// piece of a message into a line and then stores the stamp (release); the consumer knows which
// position comes next, and a line is there when its stamp says that position (acquire). So the
// news that data is there travels in the very line that holds the data: waiting for a message
// and fetching it is one cache-line transfer, not one for a tail word and more for the data.
// Every message starts on a fresh line, and the consumer polls the first and the last line of
// what it expects together, so the two lines of a 100-byte message come over at the same time,
// not one after the other.
// A message of any size travels as lines in order, so one larger than the ring goes in pieces.
//
// Why an old line is never taken for a new one: a stamp slot holds stamps only, never payload,
// and the producer writes position p into line p mod N only after the consumer has released
// position p - N. So the line the consumer waits for holds either the stamp of position p - N
// (the previous lap: (p - N + 1) mod 2^32, which differs from p + 1 because N < 2^32) or p + 1.
// The initial zeros differ from every first-lap stamp 1..N.
//
// Positions flow back in batches: the consumer stores how far it has read (head) only every
// kPublishLines lines and before it waits for anything; the producer reads head only when its
// cached copy says the ring is full. No side ever waits with progress
// it has not published.
//
// Waiting: a side that finds nothing to do spins while the peer last ran on another CPU, then
// sleeps on a futex. Sharing our CPU, the peer cannot run while we spin, so we go straight to
// the futex. Each side raises its own sleeping flag (seq_cst), looks again, and only then
// sleeps; the other side calls FUTEX_WAKE only when it sees the flag, so a running peer never
// pays for a system call. Seeing a flag for sure needs an ordering instruction after our last
// store (Dekker's pattern: store, then read, on both sides; here a read-modify-write of the
// flag, see flush()), which waits for every store before it to leave the core, so it is paid
// only where it matters: before a side sleeps itself, before it waits for room, when it goes
// away, and when, while spinning, it sees a flag with a plain load. After each message the
// producer also takes a plain look. A spinning side that misses a flag with its plain look
// still sees it in its next looks, as soon as the peer's store reaches it.
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

std::atomic<std::uint64_t> g_spin_phases{0}, g_sleeps{0};
void count(std::atomic<std::uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

constexpr std::uint32_t kLines = 1u << 14;  // 1 MiB of lines; a power of two: positions wrap
constexpr std::size_t kLinePayload = 60;
// Spin only while the peer last ran on another CPU (the kernel's optimistic spinning asks the
// same question: is the lock owner running elsewhere?). Sharing our CPU, the peer cannot run
// while we spin, so we go straight to the futex.
// A pause's cost depends on the CPU, so the budget is timed (ring_spin_budget).
constexpr int kSpins = 2048;
int g_spins = kSpins;  // the method lab varies it: 0 (always sleep) or "never sleep"

struct alignas(64) Line {
    std::byte data[kLinePayload];
    std::atomic<std::uint32_t> stamp;  // position + 1 of the payload now in data
};
static_assert(sizeof(Line) == 64);

struct Ring {
    alignas(64) std::atomic<std::uint32_t> head;  // lines consumed (written by the consumer)
    alignas(64) std::atomic<std::uint32_t> wake;  // the consumer's futex word: bumped to wake it
    alignas(64) std::atomic<std::uint32_t> consumer_sleeps;   // 1 while it may sleep on wake
    alignas(64) std::atomic<std::uint32_t> producer_sleeps;   // 1 while it may sleep on head
    alignas(64) std::atomic<int> producer_cpu, consumer_cpu;  // where each side runs, + 1
    Line line[kLines];
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
// The producer waits for room this way, on the consumer's head.
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

// The consumer waits for lines first..last (positions) this way. Their stamps are read
// together, so both lines come over at once; when the last is there, so is every line before
// it (the producer stamps in order, release; we read acquire). Asleep, the consumer waits on
// its own futex word, which the producer bumps before FUTEX_WAKE: stamps live in lines that
// move with the data, and the producer would not know which line a sleeper chose.
// The caller has stored its progress, with no ordering instruction: while spinning we look at the
// peer's sleeping flags (a read of a line that stays in our cache until the peer writes it) and
// call flush() (the ordered looks, and the wake-ups) if one is up; before we sleep ourselves we
// always flush(). So a round trip between two spinning sides costs no locked instruction at all.
template <class Asleep, class Flush>
void wait_for_lines(Ring& r, std::uint32_t first, std::uint32_t last, int my_cpu,
                    Asleep peer_asleep, Flush flush) {
    const auto& a = r.line[first % kLines].stamp;
    const auto& z = r.line[last % kLines].stamp;
    if (g_spins > 0 && r.producer_cpu.load(std::memory_order_relaxed) != my_cpu) {
        count(g_spin_phases);
        bool flushed = false;
        for (int i = 0; i < g_spins; ++i) {
            const bool ready_a = a.load(std::memory_order_acquire) == first + 1;
            if (ready_a & (z.load(std::memory_order_acquire) == last + 1)) return;
            if (!flushed && peer_asleep()) flush(), flushed = true;
            pause_cpu();
        }
    }
    flush();
    (void)r.consumer_sleeps.exchange(1, std::memory_order_seq_cst);
    // Flag first, then look: either we see the stamp, or the producer's flush() sees our flag
    // (see there) and bumps `wake`, so FUTEX_WAIT returns at once or is woken.
    for (;;) {
        const std::uint32_t gen = r.wake.load(std::memory_order_seq_cst);
        if (z.load(std::memory_order_seq_cst) == last + 1) break;
        count(g_sleeps);
        if (futex(&r.wake, FUTEX_WAIT, gen) == -1 && errno != EAGAIN && errno != EINTR)
            throw kit::SysError(errno, "futex wait");
    }
    r.consumer_sleeps.store(0, std::memory_order_relaxed);
}

void wake_consumer(Ring& r) {
    r.wake.fetch_add(1, std::memory_order_seq_cst);
    kit::check(futex(&r.wake, FUTEX_WAKE, 1), "futex wake");
}

// The consumer gives lines back every kPublishLines (16 KiB of lines): each store to a line
// the peer reads costs a cache-line transfer. It waits for at most kPieceLines at once, so a
// large message is copied out while the rest is still coming.
constexpr std::uint32_t kPublishLines = 256, kPieceLines = 64;
static_assert(kPieceLines <= kLines && kPublishLines <= kLines);

std::uint32_t lines_for(std::size_t bytes) {
    return std::uint32_t(
        std::min<std::size_t>((bytes + kLinePayload - 1) / kLinePayload, kPieceLines));
}

class RingEndpoint final : public Endpoint {
public:
    // Says where it runs from the start, so a peer on the same CPU never spins for us, even
    // before we first wait (open() runs after the process is pinned).
    RingEndpoint(Ring* tx, Ring* rx) : tx_(tx), rx_(rx) { note_cpu(); }
    ~RingEndpoint() override {
        try {
            flush();  // the last messages sent, e.g. the stop mark, and a sleeper to wake
        } catch (...) {
        }
    }
    RingEndpoint(const RingEndpoint&) = delete;
    RingEndpoint& operator=(const RingEndpoint&) = delete;
    void send(std::span<const std::byte> msg) override {
        Ring& r = *tx_;
        do {
            // Read the consumer's line only when our cached view says full: each read of a line
            // the other CPU writes is a cache miss.
            if (tail_ - peer_head_ == kLines) peer_head_ = r.head.load(std::memory_order_acquire);
            const std::uint32_t head = peer_head_;
            if (tail_ - head == kLines) {
                flush();
                wait_while(r.head, r.producer_sleeps, head, note_cpu(), r.consumer_cpu);
                continue;
            }
            // Whole lines first, then the message's last, partial line. The position is kept in
            // a local: a member would be reloaded after every atomic store.
            const std::uint32_t room = kLines - (tail_ - head);
            const std::uint32_t whole =
                std::uint32_t(std::min<std::size_t>(msg.size() / kLinePayload, room));
            std::uint32_t tail = tail_;
            const std::byte* from = msg.data();
            for (const std::uint32_t end = tail + whole; tail != end; from += kLinePayload) {
                Line& l = r.line[tail % kLines];
                std::memcpy(l.data, from, kLinePayload);
                l.stamp.store(++tail, std::memory_order_release);  // position + 1
            }
            msg = msg.subspan(std::size_t(whole) * kLinePayload);
            if (whole < room && !msg.empty() && msg.size() < kLinePayload) {
                Line& l = r.line[tail % kLines];
                std::memcpy(l.data, msg.data(), msg.size());
                l.stamp.store(++tail, std::memory_order_release);
                msg = {};
            }
            tail_ = tail;
            // A plain look: a flag we miss here is seen by flush(), before we wait.
            if (r.consumer_sleeps.load(std::memory_order_relaxed)) wake_consumer(r);
        } while (!msg.empty());
    }
    void recv(std::span<std::byte> msg) override {
        Ring& r = *rx_;
        if (msg.empty()) return;
        do {
            const std::uint32_t first = head_, last = head_ + lines_for(msg.size()) - 1;
            if (r.line[last % kLines].stamp.load(std::memory_order_acquire) != last + 1) {
                store_head();
                wait_for_lines(
                    r, first, last, note_cpu(), [this] { return peer_may_sleep(); },
                    [this] { flush(); });
            }
            // Whole lines, then a partial last one (lines_for() never asks for more than msg).
            std::uint32_t head = head_;
            std::byte* to = msg.data();
            const std::uint32_t whole =
                std::uint32_t(std::min<std::size_t>(msg.size() / kLinePayload, last + 1 - head));
            for (const std::uint32_t end = head + whole; head != end; to += kLinePayload)
                std::memcpy(to, r.line[head++ % kLines].data, kLinePayload);
            msg = msg.subspan(std::size_t(whole) * kLinePayload);
            if (head != last + 1) {
                std::memcpy(to, r.line[head++ % kLines].data, msg.size());
                msg = {};
            }
            head_ = head;
            if (head_ - published_head_ >= kPublishLines)
                publish(r.head, r.producer_sleeps, published_head_ = head_);
        } while (!msg.empty());
    }

private:
    // Before this side sleeps, waits for room or goes away, and when it sees a flag while
    // spinning: publishes what it has consumed, then wakes a peer that said it sleeps.
    // The flags are read with a read-modify-write, which always reads a flag's latest value:
    // - the producer of our rx ring raises its flag with a seq_cst store, then reads head
    //   (seq_cst): our seq_cst store of head comes first in the single order of seq_cst
    //   operations, or our read of the flag does not find it lowered;
    // - the consumer of our tx ring raises its flag with a seq_cst exchange, then reads the
    //   stamp: if our read-modify-write comes first, the exchange reads what it wrote and so
    //   synchronises with it, and every stamp we stored is visible; else we find the flag up.
    void flush() {
        rx_->head.store(published_head_ = head_, std::memory_order_seq_cst);
        if (rx_->producer_sleeps.fetch_add(0, std::memory_order_seq_cst))
            kit::check(futex(&rx_->head, FUTEX_WAKE, 1), "futex wake");
        if (tx_->consumer_sleeps.fetch_add(0, std::memory_order_seq_cst)) wake_consumer(*tx_);
    }

    void store_head() {
        if (head_ != published_head_)
            rx_->head.store(published_head_ = head_, std::memory_order_release);
    }
    // Relaxed looks at the flags the peer raises before it sleeps on us (as consumer of our tx
    // ring, as producer waiting for room in our rx ring).
    bool peer_may_sleep() const {
        return (tx_->consumer_sleeps.load(std::memory_order_relaxed) |
                rx_->producer_sleeps.load(std::memory_order_relaxed)) != 0;
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
    std::uint32_t tail_ = 0, peer_head_ = 0;       // our tx ring, as producer (lines)
    std::uint32_t head_ = 0, published_head_ = 0;  // our rx ring, as consumer (lines)
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

RingShape ring_shape() { return {kLines, kLinePayload}; }

RingWaits ring_waits() {
    return {g_spin_phases.load(std::memory_order_relaxed),
            g_sleeps.load(std::memory_order_relaxed)};
}

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
