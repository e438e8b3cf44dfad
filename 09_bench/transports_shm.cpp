// transports_shm.cpp — shared memory (共享内存) with blocking waits, and the round-trip floor:
//   shm-sem     POSIX shared memory, 16 slots per direction guarded by two POSIX semaphores
//               (sem_wait/sem_post: a futex call whenever a side has to sleep or wake the other)
//   cache-line  reference: one 64-byte line that both directions share, pure spinning, no system
//               call at all
//   shm-guard   for the peers' way only: goldsborough/ipc-bench's shm, one buffer for both
//               directions, a guard byte at its start saying whose turn it is, pure spinning
// The payload never passes through the kernel; only the waiting does.
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <new>

#include "bench.hpp"
#include "kit/names.hpp"
#include "mapping.hpp"

namespace bench {
namespace {

// ---- shm-sem: the producer-consumer of every textbook, with slots in shared memory ----
constexpr std::size_t kSlots = 16, kSlotBytes = 64 << 10;
struct SemChannel {
    // Free slots (the consumer posts it) and filled slots (the producer posts it): unnamed,
    // pshared = 1, each on its own cache line so the two sides do not write the same line.
    alignas(64) sem_t empty;
    alignas(64) sem_t full;
    alignas(64) std::byte slot[kSlots][kSlotBytes];
};

void sem_wait_intr(sem_t* s) {
    while (::sem_wait(s) == -1)
        if (errno != EINTR) throw kit::SysError(errno, "sem_wait");
}

class SemEndpoint final : public Endpoint {
public:
    SemEndpoint(SemChannel* tx, SemChannel* rx) : tx_(tx), rx_(rx) {}
    void send(std::span<const std::byte> msg) override {
        send_pieces(msg, kSlotBytes, [&](std::span<const std::byte> p) {
            sem_wait_intr(&tx_->empty);
            std::memcpy(tx_->slot[put_++ % kSlots], p.data(), p.size());
            kit::check(::sem_post(&tx_->full), "sem_post");
        });
    }
    void recv(std::span<std::byte> msg) override {
        for (std::size_t off = 0; off < msg.size(); off += kSlotBytes) {
            sem_wait_intr(&rx_->full);
            std::memcpy(msg.data() + off, rx_->slot[take_++ % kSlots],
                        std::min(kSlotBytes, msg.size() - off));
            kit::check(::sem_post(&rx_->empty), "sem_post");
        }
    }

private:
    SemChannel *tx_, *rx_;
    std::size_t put_ = 0, take_ = 0;
};

class SemLink final : public Link {
public:
    explicit SemLink(kit::Fd fd) : fd_(std::move(fd)), map_(fd_.get(), 2 * sizeof(SemChannel)) {
        for (SemChannel* c : {ab(), ba()}) {
            kit::check(::sem_init(&c->empty, 1, kSlots), "sem_init");
            kit::check(::sem_init(&c->full, 1, 0), "sem_init");
        }
    }
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        return role == Role::a ? std::make_unique<SemEndpoint>(ab(), ba())
                               : std::make_unique<SemEndpoint>(ba(), ab());
    }

private:
    SemChannel* ab() const { return reinterpret_cast<SemChannel*>(map_.data()); }
    SemChannel* ba() const { return ab() + 1; }
    kit::Fd fd_;
    Mapping map_;
};

// ---- cache-line: a bound for any round trip between two CPUs (and one of the floor's two
// shapes, measure_floor in harness.cpp) ----
// One line serves both directions: the turn word says who may read, and the value travels in the
// same line, so each hop is the line moving once from one core's cache to the other's. Two
// lines (one per direction) cost more: each store must first take its line back from the core
// that polls it.
struct alignas(64) Line {
    std::atomic<std::uint64_t> turn;  // the sender's count of messages, odd: a sent last
    std::uint64_t value;
};

class LineEndpoint final : public Endpoint {
public:
    explicit LineEndpoint(Line* line) : line_(line) {}
    void send(std::span<const std::byte> msg) override {
        std::memcpy(&line_->value, msg.data(), sizeof line_->value);
        line_->turn.store(++hops_, std::memory_order_release);
    }
    void recv(std::span<std::byte> msg) override {
        // a waits for b's hops (even counts), b for a's (odd): the hop after the last one seen.
        const std::uint64_t want = hops_ + 1;
        while (line_->turn.load(std::memory_order_acquire) != want) pause_cpu();
        hops_ = want;
        std::memcpy(msg.data(), &line_->value, sizeof line_->value);
    }

private:
    Line* line_;
    std::uint64_t hops_ = 0;  // hops of the whole conversation seen or made by this side
};

class LineLink final : public Link {
public:
    LineLink() : map_(-1, sizeof(Line)) {
        std::construct_at(reinterpret_cast<Line*>(map_.data()));  // before fork: both inherit it
    }
    std::unique_ptr<Endpoint> open(Role, pid_t) override {
        return std::make_unique<LineEndpoint>(std::launder(reinterpret_cast<Line*>(map_.data())));
    }

private:
    Mapping map_;
};

// ---- shm-guard: how goldsborough/ipc-bench measures shared memory ----
// The guard byte shares its cache line with the first 63 payload bytes, so the reader's spin
// brings in the start of the message with the news that it is there; one buffer serves both
// directions, which a strict ping-pong allows (only the side whose turn it is touches it).
class GuardEndpoint final : public Endpoint {
public:
    GuardEndpoint(std::atomic<unsigned char>* guard, std::byte* payload, unsigned char mine,
                  unsigned char theirs)
        : guard_(guard), payload_(payload), mine_(mine), theirs_(theirs) {}
    void send(std::span<const std::byte> msg) override {
        std::memcpy(payload_, msg.data(), msg.size());
        guard_->store(theirs_, std::memory_order_release);
    }
    void recv(std::span<std::byte> msg) override {
        while (guard_->load(std::memory_order_acquire) != mine_) pause_cpu();
        std::memcpy(msg.data(), payload_, msg.size());
    }

private:
    std::atomic<unsigned char>* guard_;
    std::byte* payload_;
    unsigned char mine_, theirs_;
};

class GuardLink final : public Link {
public:
    explicit GuardLink(std::size_t size) : map_(-1, 1 + size) {
        std::construct_at(reinterpret_cast<std::atomic<unsigned char>*>(map_.data()), 0);
    }
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        auto* guard = std::launder(reinterpret_cast<std::atomic<unsigned char>*>(map_.data()));
        return role == Role::a ? std::make_unique<GuardEndpoint>(guard, map_.data() + 1, 'a', 'b')
                               : std::make_unique<GuardEndpoint>(guard, map_.data() + 1, 'b', 'a');
    }

private:
    Mapping map_;
};

}  // namespace

// The name is removed on return, once the object is sized and mapped: the children inherit the
// mapping through fork, so no name outlives the setup, even if the run is killed.
std::unique_ptr<Link> make_shm_sem(std::size_t) {
    auto name = kit::shm_unlink_guard(kit::unique_posix_name("bench-sem"));
    return std::make_unique<SemLink>(
        sized(kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600),
                         "shm_open"),
              2 * sizeof(SemChannel)));
}
std::unique_ptr<Link> make_cache_line(std::size_t) { return std::make_unique<LineLink>(); }
std::unique_ptr<Link> make_shm_guard(std::size_t size) { return std::make_unique<GuardLink>(size); }

}  // namespace bench
