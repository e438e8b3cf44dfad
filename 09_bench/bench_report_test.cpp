// bench_report_test.cpp — the report's own logic on made-up measurements: the cache-line floor is
// the fastest of its interleaved runs, a cell below it is flagged, the floor's spread names a host
// that changed speed, each row is compared with its peers' way as stated, and the ring's targets
// are medians of back-to-back pairs; a chart's axis labels every power of ten and adds a 2 or 5
// only where its label fits. Nothing here is timed; the numbers are given.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "peers_way.hpp"
#include "report.hpp"

namespace bench {
namespace {

Measured pingpong_with_p50(double p50_us) {
    Measured m;
    m.p50_us = p50_us, m.p99_us = p50_us * 2, m.p999_us = p50_us * 3;
    m.rate = {1e6 / p50_us, 1e6 / p50_us, 1e6 / p50_us};
    m.count = 1000;
    return m;
}

// One cross placement with a ring row at `ring_p50` and the floor measured as `floor_p50s`.
Run made_up_run(double ring_p50, std::vector<double> floor_p50s) {
    Run run;
    run.sizes = {100};
    run.placements = {{"cross", 0, 1}};
    run.rows.push_back(
        {find_mechanism("shm-ring"), &run.placements[0], 100, pingpong_with_p50(ring_p50), {}});
    run.rows.push_back({find_mechanism("cache-line"),
                        &run.placements[0],
                        100,
                        pingpong_with_p50(floor_p50s[0]),
                        {}});
    run.floors = {Floor{std::move(floor_p50s)}};
    return run;
}

Measured with_rates(double max, double median) {
    Measured m;
    m.rate = {median, max * 0.9, max};
    m.count = 1;
    return m;
}

std::string tables(const Run& run) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::tmpfile(), std::fclose);
    print_tables(f.get(), run);
    std::rewind(f.get());
    std::string out;
    for (int c; (c = std::fgetc(f.get())) != EOF;) out += char(c);
    return out;
}

TEST(Report, TheFloorIsTheFastestOfItsInterleavedRunsAndNothingMeasuredIsBelowIt) {
    const bench::Run run = made_up_run(0.62, {0.31, 0.30, 0.35});
    EXPECT_EQ(run.floors[0].spread().min, 0.30);
    EXPECT_EQ(run.floors[0].spread().median, 0.31);
    EXPECT_EQ(cells_below_the_floor(run), std::vector<std::string>{});
    const std::string out = tables(run);
    EXPECT_NE(out.find("cache-line round trip 300 ns (total time / count; min; median 310 ns, max "
                       "350 ns of 3 runs between the cells)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("host: kept its speed (the floor's max/min is 1.17)"), std::string::npos)
        << out;
    EXPECT_NE(out.find("0.62 us              2.1 x"), std::string::npos) << out;
    EXPECT_EQ(out.find("FLOOR BEATEN"), std::string::npos) << out;
}

TEST(Report, ACellBelowTheFloorIsFlaggedAsAWrongFloor) {
    const bench::Run run = made_up_run(0.25, {0.31, 0.30, 0.35});
    EXPECT_EQ(cells_below_the_floor(run), std::vector<std::string>{"cross shm-ring 100 B"});
    EXPECT_NE(tables(run).find("FLOOR BEATEN: cross shm-ring 100 B"), std::string::npos);
}

TEST(Report, AWideFloorSpreadSaysTheHostChangedSpeed) {
    const std::string out = tables(made_up_run(0.9, {0.30, 0.80, 0.31}));
    EXPECT_NE(out.find("host: changed speed during the run"), std::string::npos) << out;
    EXPECT_NE(out.find("(the floor's max/min is 2.67)"), std::string::npos) << out;
}

// A made-up run: one cross placement, a pipe row whose repetitions were paired with its peers'
// way's, a floor of 100 to 200 ns.
bench::Run run_with_peers(std::vector<double> kit, std::vector<double> peers) {
    bench::Run run;
    run.sizes = {100};
    run.placements = {{"cross", 0, 1}};
    Measured m = with_rates(1, 1);
    m.rate = spread(kit);
    m.reps = std::move(kit), m.peers_reps = std::move(peers);
    run.rows.push_back({find_mechanism("pipe"), &run.placements[0], 100, m, {}});
    run.floors = {Floor{{0.1, 0.2}}};
    return run;
}

TEST(PeersReport, TheRatioIsTheMedianOfThePairsRatiosSoOneDisturbedPairDoesNotCount) {
    // Pairs: 96/100, 50/100 (a disturbance hit the kit's half), 99/99: ratios 0.96, 0.5, 1.0.
    const bench::Run run = run_with_peers({96'000, 50'000, 99'000}, {100'000, 100'000, 99'000});
    EXPECT_DOUBLE_EQ(peers_ratio(run.rows[0]), 0.96);
    EXPECT_EQ(rows_behind_their_peers(run), std::vector<std::string>{});
    const std::string out = tables(run);
    EXPECT_NE(out.find("cross     pipe                          100 B          96000         "
                       "100000   0.96  same calls\n"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("BEHIND"), std::string::npos) << out;
}

TEST(PeersReport, ARowBelowTheBarIsFlaggedBehind) {
    const bench::Run run = run_with_peers({90'000, 91'000, 89'000}, {100'000, 100'000, 100'000});
    EXPECT_EQ(rows_behind_their_peers(run), std::vector<std::string>{"cross pipe 100 B"});
    const std::string out = tables(run);
    EXPECT_NE(out.find("0.90  same calls  BEHIND"), std::string::npos) << out;
    EXPECT_NE(out.find("BEHIND ITS PEERS: cross pipe 100 B is below 0.95 of its peers' way"),
              std::string::npos)
        << out;
}

TEST(PeersReport, APeersLoopFasterThanTheFloorMeansTheFloorIsWrong) {
    // 50 ns a round trip, below the 100 ns floor.
    const bench::Run run = run_with_peers({96'000, 96'000, 96'000}, {20e6, 20e6, 20e6});
    EXPECT_EQ(cells_below_the_floor(run),
              std::vector<std::string>{"cross pipe 100 B (peers' way)"});
    EXPECT_NE(tables(run).find("FLOOR BEATEN: cross pipe 100 B (peers' way)"), std::string::npos);
}

TEST(PeersReport, AFailedCellGivesNoRatio) {
    bench::Run run = run_with_peers({96'000}, {100'000});
    run.rows[0].pingpong->error = "stalled";
    EXPECT_EQ(peers_ratio(run.rows[0]), 0);
    const std::string out = tables(run);
    EXPECT_NE(out.find("100 B         FAILED         FAILED      -  same calls"), std::string::npos)
        << out;
}

TEST(Targets, EachRatioIsTheMedianOfItsBackToBackPairs) {
    // Floor 100 ns; ring 180, 300 and 190 ns: ratios 1.8, 3.0, 1.9; the median is 1.9.
    std::vector<TargetPair> trips = {{with_rates(10e6, 10e6), with_rates(1, 1e9 / 180)},
                                     {with_rates(10e6, 10e6), with_rates(1, 1e9 / 300)},
                                     {with_rates(10e6, 10e6), with_rates(1, 1e9 / 190)}};
    EXPECT_NEAR(target_ratio(trips, false), 1.9, 1e-9);
    // memcpy 10 GB/s; the ring 5, 6 and 4 GB/s of 1 KiB messages: the median is 50 %.
    std::vector<TargetPair> copies;
    for (double gbs : {5.0, 6.0, 4.0})
        copies.push_back({with_rates(1, 10e9), with_rates(1, gbs * 1e9 / 1024)});
    EXPECT_NEAR(target_ratio(copies, true), 0.5, 1e-9);
    copies[1].ring.error = "lost";  // a failed pair does not count
    EXPECT_NEAR(target_ratio(copies, true), 0.45, 1e-9);

    bench::Run run;
    run.sizes = {100};
    run.placements = {{"cross", 0, 1}};
    run.targets = {trips, copies};
    const std::string out = tables(run);
    EXPECT_NE(out.find("target: shm ring round trip = 1.90 x the floor"), std::string::npos) << out;
    EXPECT_NE(out.find("target: shm ring streaming = 45 % of memcpy"), std::string::npos) << out;
    EXPECT_NE(out.find("goal: at least 50 %)  MISSED"), std::string::npos) << out;
    EXPECT_NE(out.find("FAILED target cell: lost"), std::string::npos) << out;
}

TEST(Chart, EveryPowerOfTenIsLabelledAndAnotherLabelOnlyWhereItClearsItsNeighbours) {
    // A latency axis whose low end (500 ns) sits 20 px from 1 us: the two labels would overlap,
    // so only the power of ten keeps its label; 2 us and 5 us, 40 px apart, both fit.
    const std::vector<double> x = {0, 20, 60, 100, 140};
    const std::vector<std::string> text = {"500 ns", "1 us", "2 us", "5 us", "10 us"};
    const std::vector<bool> major = {false, true, false, false, true};
    EXPECT_EQ(labels_that_fit(x, text, major), (std::vector<bool>{false, true, true, true, true}));
    // Squeezed together, only the powers of ten keep theirs, even where they touch.
    const std::vector<double> narrow = {0, 5, 15, 25, 35};
    EXPECT_EQ(labels_that_fit(narrow, text, major),
              (std::vector<bool>{false, true, false, false, true}));
}

}  // namespace
}  // namespace bench
