// bench_ring_test.cpp — the shared-memory ring (transports_ring.cpp), proved by behaviour, never
// timed: messages larger than the ring, a wrap-around at every line, the always-sleep and
// never-sleep settings, no spinning beside a peer on the same CPU, and a line left from the
// previous lap never taken for a new message.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/syscall.h>

#include <climits>
#include <cstring>
#include <vector>

#include "bench.hpp"
#include "harness.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

namespace bench {

namespace {

// Byte i of message n in direction dir: differs between messages, positions and directions.
void fill(std::span<std::byte> m, std::uint64_t n, int dir) {
    for (std::size_t i = 0; i < m.size(); ++i)
        m[i] = std::byte((n * 7 + i * 13 + dir * 101) & 0xff);
}
bool matches(std::span<const std::byte> m, std::uint64_t n, int dir) {
    for (std::size_t i = 0; i < m.size(); ++i)
        if (m[i] != std::byte((n * 7 + i * 13 + dir * 101) & 0xff)) return false;
    return true;
}

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    kit::check(::sched_setaffinity(0, sizeof set, &set), "sched_setaffinity");
}

// Runs role a and role b of `link` in two children pinned to cpu_a and cpu_b; each body returns
// its exit status (0: all good).
template <class Fa, class Fb>
std::pair<kit::ExitStatus, kit::ExitStatus> run_pair(Link& link, int cpu_a, int cpu_b, Fa a_body,
                                                     Fb b_body) {
    kit::Child b = kit::spawn([&] {
        pin(cpu_b);
        auto ep = link.open(Role::b, 0);
        return b_body(*ep);
    });
    kit::Child a = kit::spawn([&] {
        pin(cpu_a);
        auto ep = link.open(Role::a, 0);
        return a_body(*ep);
    });
    auto sa = a.wait();
    return {sa, b.wait()};
}

// A burst of `count` messages of `size` bytes from a to b, then b's acknowledgement.
void expect_burst(const char* name, std::size_t size, int count, int cpu_a, int cpu_b) {
    auto link = find_mechanism(name)->make(size);
    auto [sa, sb] = run_pair(
        *link, cpu_a, cpu_b,
        [&](Endpoint& ep) {
            std::vector<std::byte> out(size);
            for (int n = 0; n < count; ++n) fill(out, n, 0), ep.send(out);
            ep.recv(std::span(out).first(8));
            return 0;
        },
        [&](Endpoint& ep) {
            std::vector<std::byte> in(size);
            for (int n = 0; n < count; ++n) {
                ep.recv(in);
                if (!matches(in, n, 0)) return 1;
            }
            ep.send(std::span(in).first(8));
            return 0;
        });
    EXPECT_TRUE(sa.ok()) << name << " " << size << " B: a " << sa.describe();
    EXPECT_TRUE(sb.ok()) << name << " " << size << " B: b " << sb.describe()
                         << " (exit 1: a message arrived damaged or out of order)";
}

// One ring-full plus one byte, and an odd two and a half ring-fulls: the producer waits for room
// in the middle of a message, and the last line of a message is partly filled. Three messages
// of each, on one CPU and on two.
void expect_larger_than_the_ring(const char* name) {
    const auto cpus = allowed_cpus();
    const std::size_t ring = ring_shape().lines * ring_shape().line_payload;
    for (std::size_t size : {ring + 1, ring * 5 / 2 + 7}) {
        expect_burst(name, size, 3, cpus[0], cpus[0]);
        if (cpus.size() > 1) expect_burst(name, size, 3, cpus[0], cpus[1]);
    }
}

TEST(Ring, MessagesLargerThanTheRingArriveIntactAndInOrder) {
    expect_larger_than_the_ring("shm-ring");
}

TEST(Ring, MessagesLargerThanTheFileBackedRingArriveIntactAndInOrder) {
    expect_larger_than_the_ring("mmap-file");
}

TEST(Ring, EveryLineOfTheRingWrapsAroundWithMessagesIntact) {
    // Both ends in this process, one message in flight: sizes 1..181 bytes (1 to 4 lines) move
    // the next message's first line through every line of the ring, lap after lap.
    auto link = find_mechanism("shm-ring")->make(100);
    link->share_one_process();
    auto a = link->open(Role::a, 0), b = link->open(Role::b, 0);
    std::vector<std::byte> out(181), in(181);
    const auto [ring_lines, payload] = ring_shape();
    ASSERT_EQ(payload, 60u) << "the sizes below assume 60 bytes a line";
    std::uint64_t lines = 0;
    for (std::uint64_t n = 0; lines < 4 * std::uint64_t(ring_lines) + 7; ++n) {
        const std::size_t size = 1 + (n * 37) % 181;
        fill(std::span(out).first(size), n, 0);
        a->send(std::span(out).first(size));
        b->recv(std::span(in).first(size));
        ASSERT_TRUE(matches(std::span(in).first(size), n, 0))
            << "message " << n << ", " << size << " B, at line " << lines % ring_lines;
        lines += (size + 59) / 60;
    }
}

// A ping-pong of `rounds` 100-byte messages; b exits 2 if its consumer spun, 3 if it slept, 4 if
// it never slept (as `expect` asks), 1 if a message arrived damaged. Counts are taken after the
// first round trip, when both sides have opened, so each knows where the other runs.
enum class Expect { no_spin, no_sleep, sleeps };
void expect_ping_pong(int spins, int cpu_a, int cpu_b, Expect expect) {
    auto link = find_mechanism("shm-ring")->make(100);
    auto check_waits = [&](const RingWaits& before) {
        const RingWaits now = ring_waits();
        if (expect == Expect::no_spin && now.spins != before.spins) return 2;
        if (expect == Expect::no_sleep && now.sleeps != before.sleeps) return 3;
        // One side may never sleep: on one CPU, waking the peer can switch to it at once, and
        // the waker finds the answer already there when it runs again. Not both (below).
        if (expect != Expect::no_sleep && now.sleeps == before.sleeps) return 4;
        return 0;
    };
    constexpr int kRounds = 200;
    auto [sa, sb] = run_pair(
        *link, cpu_a, cpu_b,
        [&](Endpoint& ep) {
            set_ring_spins(spins);
            std::vector<std::byte> out(100), in(100);
            RingWaits before{};
            for (int n = 0; n < kRounds; ++n) {
                fill(out, n, 0);
                ep.send(out);
                ep.recv(in);
                if (!matches(in, n, 1)) return 1;
                if (n == 0) before = ring_waits();
            }
            return check_waits(before);
        },
        [&](Endpoint& ep) {
            set_ring_spins(spins);
            std::vector<std::byte> out(100), in(100);
            RingWaits before{};
            for (int n = 0; n < kRounds; ++n) {
                ep.recv(in);
                if (!matches(in, n, 0)) return 1;
                if (n == 1) before = ring_waits();
                fill(out, n, 1);
                ep.send(out);
            }
            return check_waits(before);
        });
    const char* codes = " (1 damaged, 2 spun, 3 slept, 4 never slept)";
    const bool may_skip_sleep = expect != Expect::no_sleep;
    EXPECT_TRUE(sa.ok() || (may_skip_sleep && sa.exited_with(4)))
        << "spins " << spins << ": a " << sa.describe() << codes;
    EXPECT_TRUE(sb.ok() || (may_skip_sleep && sb.exited_with(4)))
        << "spins " << spins << ": b " << sb.describe() << codes;
    EXPECT_FALSE(sa.exited_with(4) && sb.exited_with(4))
        << "spins " << spins << ": neither side ever slept, so the test proved nothing";
}

TEST(Ring, AlwaysSleepingDeliversEverythingWithoutSpinning) {
    const auto cpus = allowed_cpus();
    expect_ping_pong(0, cpus[0], cpus[0], Expect::no_spin);
    if (cpus.size() > 1) expect_ping_pong(0, cpus[0], cpus[1], Expect::no_spin);
}

TEST(Ring, NeverSleepingAcrossTwoCpusDeliversEverythingWithoutAFutexWait) {
    const auto cpus = allowed_cpus();
    if (cpus.size() < 2) GTEST_SKIP() << "one CPU: a side that never sleeps would starve its peer";
    expect_ping_pong(INT_MAX, cpus[0], cpus[1], Expect::no_sleep);
}

TEST(Ring, ASideSharingItsPeersCpuSleepsInsteadOfSpinning) {
    // The default spin budget, both on one CPU: once each knows where the other runs, every
    // wait goes straight to FUTEX_WAIT.
    const auto cpus = allowed_cpus();
    expect_ping_pong(2048, cpus[0], cpus[0], Expect::no_spin);
}

TEST(Ring, ALineLeftFromThePreviousLapIsNotTakenForANewMessage) {
    // b takes exactly one lap (100-byte messages of two lines each), then asks for one more:
    // the line it waits on still carries the stamp of the first lap. It must sleep (FUTEX_WAIT)
    // until a sends the new message, and then get that message, not the old one.
    ASSERT_EQ(ring_shape().line_payload, 60u) << "100 bytes must take two lines";
    const int lap_messages = int(ring_shape().lines / 2);
    auto link = find_mechanism("shm-ring")->make(100);
    kit::Pipe lap = kit::make_pipe();
    kit::Child b = kit::spawn([&] {
        lap.read.reset();
        set_ring_spins(0);
        auto ep = link->open(Role::b, 0);
        std::vector<std::byte> in(100);
        for (int n = 0; n < lap_messages; ++n) {
            ep->recv(in);
            if (!matches(in, n, 0)) return 1;
        }
        const std::byte x{1};
        kit::write_all(lap.write.get(), std::span(&x, 1));  // the lap is taken; now the next
        ep->recv(in);
        return matches(in, lap_messages, 0) ? 0 : 2;
    });
    lap.write.reset();
    auto a = link->open(Role::a, 0);
    std::vector<std::byte> out(100);
    for (int n = 0; n < lap_messages; ++n) fill(out, n, 0), a->send(out);
    std::byte x{};
    ASSERT_EQ(kit::read_full(lap.read.get(), std::span(&x, 1)), 1u) << "b did not take the lap";
    ASSERT_TRUE(kit::wait_in_syscall(b.pid(), SYS_futex))
        << "b did not wait on its futex after the first lap";
    fill(out, lap_messages, 0);
    a->send(out);
    const auto sb = b.wait();
    EXPECT_TRUE(sb.ok()) << "b " << sb.describe()
                         << " (1: the first lap damaged, 2: not the new message)";
}

}  // namespace
}  // namespace bench
