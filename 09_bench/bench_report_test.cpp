// bench_report_test.cpp — the report's own logic on made-up measurements: the cache-line floor is
// the fastest of its interleaved runs, a cell below it is flagged, and the floor's spread names a
// host that changed speed. Nothing here is timed; the numbers are given.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

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
    EXPECT_NE(out.find("p50 300 ns (min; median 310 ns, max 350 ns of 3 runs between the cells)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("host: kept its speed (the floor's max/min is 1.17)"), std::string::npos)
        << out;
    EXPECT_NE(out.find("= 2.07 x the cache-line floor"), std::string::npos) << out;
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

}  // namespace
}  // namespace bench
