// bench_peers_test.cpp — the peers' way: the minimal loop delivers and stops, every row the peers
// publish has its peers' way, the floor and goldsborough's shm run in both loops, a ping-pong times
// its latency apart from its rate, and the peers' loop runs beside a cell. Nothing here is timed:
// the tests check counts and errors only.
// The report's comparisons are in bench_report_test.cpp.
#include <gtest/gtest.h>
#include <sched.h>

#include <vector>

#include "kit/check.hpp"
#include "peers_way.hpp"
#include "roles.hpp"

namespace bench {
namespace {

const Settings kShort{std::chrono::milliseconds(3), std::chrono::milliseconds(1), 2,
                      std::chrono::milliseconds(0)};

Settings peers(Settings s = kShort) {
    s.peers_way = true;
    return s;
}

TEST(PeersWay, EveryRowThePeersPublishHasOneAndTheRingsIsGoldsboroughsShm) {
    for (const char* same : {"pipe", "sysv-mq", "unix-stream", "tcp", "eventfd"})
        EXPECT_EQ(peers_way_of(same), find_mechanism(same)) << same;
    ASSERT_NE(peers_way_of("shm-ring"), nullptr);
    EXPECT_EQ(peers_way_of("shm-ring")->name, "shm-guard");
    EXPECT_TRUE(peers_way_of("shm-ring")->needs_two_cpus);  // it spins, as goldsborough's does
    EXPECT_EQ(peers_way_of("udp"), nullptr);
    EXPECT_EQ(peers_way_of("cache-line"), nullptr);
}

TEST(PeersWay, TheMinimalLoopCountsWholeRepetitionsAndStopsTheAnsweringSide) {
    const Placement same{"same", allowed_cpus()[0], allowed_cpus()[0]};
    for (const char* name : {"pipe", "sysv-mq", "unix-stream", "tcp", "eventfd"}) {
        const Measured m = run_cell(*find_mechanism(name), 100, same, Mode::pingpong, peers());
        EXPECT_TRUE(m.ok()) << name << ": " << m.error;  // b saw the stop byte and reported
        EXPECT_GT(m.count, 0u) << name;
        EXPECT_EQ(m.rate.min > 0, true) << name;
        EXPECT_EQ(m.p50_us, 0) << name << ": the peers' way reads no clock per round trip";
        EXPECT_GT(m.cpu_us_per_op, 0) << name;
    }
}

TEST(PeersWay, GoldsboroughsShmAndTheFloorRunInBothLoops) {
    const auto c = allowed_cpus();
    if (c.size() < 2) GTEST_SKIP() << "a pure spin needs two CPUs; this process may use one";
    const Placement cross{"cross", c[0], c[1]};
    for (std::size_t size : {std::size_t(100), std::size_t(1024)}) {
        const Measured g =
            run_cell(*peers_way_of("shm-ring"), size, cross, Mode::pingpong, peers());
        EXPECT_TRUE(g.ok()) << size << ": " << g.error;
        EXPECT_GT(g.count, 0u);
    }
    const auto& line = *find_mechanism("cache-line");
    for (const Settings& s : {kShort, peers()}) {
        const Measured m = run_cell(line, 8, cross, Mode::pingpong, s);
        EXPECT_TRUE(m.ok()) << m.error;  // the kit's way checks every sequence word
        EXPECT_GT(m.count, 0u);
    }
}

TEST(Harness, APingPongCountsItsRateUntimedAndTimesItsLatencyApart) {
    const Placement same{"same", allowed_cpus()[0], allowed_cpus()[0]};
    const Measured m = run_cell(*find_mechanism("pipe"), 100, same, Mode::pingpong, kShort);
    ASSERT_TRUE(m.ok()) << m.error;
    // Every repetition of the rate runs the same number of round trips, sized by the warm-up
    // (no clock read among them decides when it ends); the samples are taken apart from them.
    EXPECT_GT(m.count, 0u);
    EXPECT_EQ(m.count % std::uint64_t(kShort.reps), 0u) << m.count;
    EXPECT_GE(m.samples, std::uint64_t(kShort.reps));  // each repetition times some
    EXPECT_GT(m.timed_rate, 0);
    EXPECT_GT(m.p50_us, 0);
    EXPECT_LE(m.p50_us, m.p99_us);
    EXPECT_TRUE(m.reps.empty());  // no peers' loop beside it unless asked
}

// The peers' loop beside a cell's own, repetition by repetition, in the same two processes: on
// the same endpoints (pipe; eventfd, whose values would add up if a message were left unread),
// or on a link of its own (the ring's, goldsborough's shm).
TEST(PeersBeside, EachRepetitionIsPairedWithOneOfThePeersLoop) {
    const auto cpus = allowed_cpus();
    const Placement same{"same", cpus[0], cpus[0]};
    std::vector<std::pair<const char*, Placement>> cells = {{"pipe", same}, {"eventfd", same}};
    if (cpus.size() >= 2) cells.push_back({"shm-ring", {"cross", cpus[0], cpus[1]}});
    for (const auto& [name, where] : cells) {
        Settings s = kShort;
        s.reps = 3;
        s.peers_beside = peers_way_of(name);
        const Measured m = run_cell(*find_mechanism(name), 100, where, Mode::pingpong, s);
        ASSERT_TRUE(m.ok()) << name << ": " << m.error;
        ASSERT_EQ(m.reps.size(), 3u) << name;
        ASSERT_EQ(m.peers_reps.size(), 3u) << name;
        for (std::size_t i = 0; i < 3; ++i) {
            EXPECT_GT(m.reps[i], 0) << name << " repetition " << i;
            EXPECT_GT(m.peers_reps[i], 0) << name << " repetition " << i;
        }
        EXPECT_GT(m.samples, 0u) << name;  // the cell's own latency samples are still taken
    }
}

// The floor's two shapes both carry each message, and a floor measurement runs them the peers'
// way: no clock read per round trip.
TEST(Floor, BothShapesCarryEveryMessageAndTheFloorIsMeasuredThePeersWay) {
    const auto cpus = allowed_cpus();
    if (cpus.size() < 2) GTEST_SKIP() << "the floor spins: it needs two CPUs";
    const Placement cross{"cross", cpus[0], cpus[1]};
    for (const char* name : {"cache-line", "shm-ring"}) {
        const Measured k = run_cell(*find_mechanism(name), 8, cross, Mode::pingpong, kShort);
        EXPECT_TRUE(k.ok()) << name << ": " << k.error;  // each sequence word checked
        EXPECT_GT(k.count, 0u) << name;
    }
    const Measured f = measure_floor(cross, kShort);
    ASSERT_TRUE(f.ok()) << f.error;
    EXPECT_GT(f.rate.median, 0);
    EXPECT_EQ(f.samples, 0u);  // total time / count
}

TEST(PeersBeside, OnlyAPingPongOfTwoProcessesTakesIt) {
    const Placement same{"same", allowed_cpus()[0], allowed_cpus()[0]};
    Settings s = kShort;
    s.peers_beside = find_mechanism("pipe");
    EXPECT_THROW((void)run_cell(*find_mechanism("pipe"), 100, same, Mode::stream, s),
                 std::invalid_argument);
    s.threads = true;
    EXPECT_THROW((void)run_cell(*find_mechanism("pipe"), 100, same, Mode::pingpong, s),
                 std::invalid_argument);
    s.threads = false;  // eventfd's 8-byte messages against a pipe of 100 B: not like with like
    EXPECT_THROW((void)run_cell(*find_mechanism("eventfd"), 100, same, Mode::pingpong, s),
                 std::invalid_argument);
}

}  // namespace
}  // namespace bench
