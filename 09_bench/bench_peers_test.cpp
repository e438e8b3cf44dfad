// bench_peers_test.cpp — the peers' way: the minimal loop delivers and stops, every row the peers
// publish has its peers' way, the floor and goldsborough's shm run in both loops, and a ping-pong
// times one round trip in sixteen. Nothing here is timed: the tests check counts and errors only.
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

TEST(Harness, TheClockIsReadOftenEnoughForSamplesAndRarelyEnoughToStayOutOfTheRate) {
    // Two clock reads of 25 ns against a round trip: timed every time at 5 us, when they are
    // 1 % of it; one in 64 at 100 ns (0.8 %); never rarer than one in 64.
    EXPECT_EQ(sample_every(25, 5000), 1);
    EXPECT_EQ(sample_every(25, 4000), 2);
    EXPECT_EQ(sample_every(25, 1000), 8);
    EXPECT_EQ(sample_every(25, 100), 64);
    EXPECT_EQ(sample_every(25, 10), kMaxSampleEvery);
    EXPECT_EQ(sample_every(0, 100), 1);
}

TEST(Harness, APingPongTimesOneRoundTripInEveryFewAndCountsThemAll) {
    const Placement same{"same", allowed_cpus()[0], allowed_cpus()[0]};
    const Measured m = run_cell(*find_mechanism("pipe"), 100, same, Mode::pingpong, kShort);
    ASSERT_TRUE(m.ok()) << m.error;
    const auto every = std::uint64_t(m.sample_every);
    ASSERT_GE(every, 1u);
    ASSERT_LE(every, std::uint64_t(kMaxSampleEvery));
    EXPECT_EQ(every & (every - 1), 0u) << "a power of two: " << every;
    // Every repetition ends with a timed round trip, so the count is whole groups of `every`,
    // one sample each.
    EXPECT_EQ(m.count % every, 0u);
    EXPECT_EQ(m.samples * every, m.count);
    EXPECT_GT(m.p50_us, 0);
    EXPECT_LE(m.p50_us, m.p99_us);
}

}  // namespace
}  // namespace bench
