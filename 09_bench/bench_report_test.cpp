// bench_report_test.cpp — the report's own logic on made-up measurements: the cache-line floor is
// the fastest of its interleaved runs, a cell below it is flagged, the floor's spread names a host
// that changed speed, each row is compared with its peers' way as stated, and the ring's targets
// are medians of back-to-back pairs. Nothing here is timed; the numbers are given.
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
        {find_mechanism("shm-ring"), &run.placements[0], 100, pingpong_with_p50(ring_p50), {}, {}});
    run.rows.push_back({find_mechanism("cache-line"),
                        &run.placements[0],
                        100,
                        pingpong_with_p50(floor_p50s[0]),
                        {},
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

// A made-up run: one cross placement, a pipe row with its two peers' cells, a floor.
bench::Run run_with_peers(double kit_max, double peers_max_1, double peers_max_2) {
    bench::Run run;
    run.sizes = {100};
    run.placements = {{"cross", 0, 1}};
    Row r{find_mechanism("pipe"), &run.placements[0], 100, with_rates(kit_max, kit_max), {}, {}};
    r.peers = {with_rates(peers_max_1, 1), with_rates(peers_max_2, 1)};
    run.rows.push_back(r);
    run.floors = {Floor{{0.1, 0.2}}};
    return run;
}

TEST(PeersReport, TheRatioIsTheFastestRepetitionOverTheMeanOfBothPeersCells) {
    const bench::Run run = run_with_peers(96'000, 100'000, 102'000);
    EXPECT_DOUBLE_EQ(peers_ratio(run.rows[0]), 96'000.0 / 101'000.0);
    EXPECT_EQ(rows_behind_their_peers(run), std::vector<std::string>{});
    const std::string out = tables(run);
    EXPECT_NE(out.find("cross     pipe                          100 B          96000         "
                       "101000   0.95  same calls\n"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("BEHIND"), std::string::npos) << out;
}

TEST(PeersReport, ARowBelowTheBarIsFlaggedBehind) {
    const bench::Run run = run_with_peers(90'000, 100'000, 100'000);
    EXPECT_EQ(rows_behind_their_peers(run), std::vector<std::string>{"cross pipe 100 B"});
    const std::string out = tables(run);
    EXPECT_NE(out.find("0.90  same calls  BEHIND"), std::string::npos) << out;
    EXPECT_NE(out.find("BEHIND ITS PEERS: cross pipe 100 B is below 0.95 of its peers' way"),
              std::string::npos)
        << out;
}

TEST(PeersReport, APeersCellFasterThanTheFloorMeansTheFloorIsWrong) {
    bench::Run run = run_with_peers(96'000, 100'000, 100'000);
    run.rows[0].peers[1] = with_rates(20e6, 20e6);  // 50 ns a round trip, below the 100 ns floor
    EXPECT_EQ(cells_below_the_floor(run),
              std::vector<std::string>{"cross pipe 100 B (peers' way)"});
    EXPECT_NE(tables(run).find("FLOOR BEATEN: cross pipe 100 B (peers' way)"), std::string::npos);
}

TEST(PeersReport, AFailedPeersCellGivesNoRatio) {
    bench::Run run = run_with_peers(96'000, 100'000, 100'000);
    run.rows[0].peers[0].error = "stalled";
    EXPECT_EQ(peers_ratio(run.rows[0]), 0);
    EXPECT_NE(tables(run).find("FAILED peers' way: stalled"), std::string::npos);
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

}  // namespace
}  // namespace bench
