// transports_shm.cpp — shared memory (共享内存) with blocking waits, and the round-trip floor:
//   shm-sem     POSIX shared memory, 16 slots per direction guarded by two POSIX semaphores
//               (sem_wait/sem_post: a futex call whenever a side has to sleep or wake the other)
//   cache-line  reference: one 64-byte line per direction, pure spinning, no system call at all
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

// ---- cache-line: the floor for any round trip between two CPUs ----
struct alignas(64) Line {
    std::atomic<std::uint64_t> generation;
    std::uint64_t value;
};

class LineEndpoint final : public Endpoint {
public:
    LineEndpoint(Line* tx, Line* rx) : tx_(tx), rx_(rx) {}
    void send(std::span<const std::byte> msg) override {
        std::memcpy(&tx_->value, msg.data(), sizeof tx_->value);
        tx_->generation.store(++sent_, std::memory_order_release);
    }
    void recv(std::span<std::byte> msg) override {
        while (rx_->generation.load(std::memory_order_acquire) == seen_) pause_cpu();
        ++seen_;
        std::memcpy(msg.data(), &rx_->value, sizeof rx_->value);
    }

private:
    Line *tx_, *rx_;
    std::uint64_t sent_ = 0, seen_ = 0;
};

class LineLink final : public Link {
public:
    LineLink() : map_(-1, 2 * sizeof(Line)) {
        std::construct_at(reinterpret_cast<Line*>(map_.data()));  // before fork: both inherit it
        std::construct_at(reinterpret_cast<Line*>(map_.data()) + 1);
    }
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        Line* ab = std::launder(reinterpret_cast<Line*>(map_.data()));
        return role == Role::a ? std::make_unique<LineEndpoint>(ab, ab + 1)
                               : std::make_unique<LineEndpoint>(ab + 1, ab);
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

}  // namespace bench
