// report.hpp — what a run produced, and the ways ipc_bench prints it: the terminal tables,
// CSV, JSON and an SVG bar chart.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace bench {

struct Machine {
    std::string kernel, cpu_model, date, virtualised;
    int cores = 0;
    double clock_ns = 0;  // the cost of one clock read, included in every latency sample
    SpinBudget spin;      // the ring's spin before it sleeps, timed here
};

// One mechanism at one message size and one placement.
struct Row {
    const Mechanism* mech = nullptr;
    const Placement* where = nullptr;
    std::size_t size = 0;  // as requested; fixed-size rows measured mech->fixed_size bytes
    // A ping-pong that published benchmarks also measure ran its peers' way beside it, repetition
    // by repetition (Measured::reps and peers_reps), so a drift of the host's speed moves both
    // sides of the comparison alike.
    std::optional<Measured> pingpong, stream;
};

// The median, over the pairs of repetitions, of the row's ping-pong rate over its peers' way's
// (0: not measured, or a side failed).
[[nodiscard]] double peers_ratio(const Row& r);

// The cache-line floor of one placement. It is measured again right before every ping-pong cell
// it bounds (interleaved, not once), because on a shared or virtual machine the cores' speed
// changes during a run: a floor taken at another moment can be "beaten" by what it bounds. It is
// measured the peers' way (total time / count, no clock read per round trip), so no loop can
// beat it by reading the clock less often. The minimum is the floor; the spread tells whether
// the host kept its speed.
struct Floor {
    std::vector<double> trip_us;  // one per measurement, in run order: 1 / its rate
    [[nodiscard]] Spread spread() const { return bench::spread(trip_us); }
    [[nodiscard]] bool measured() const { return !trip_us.empty(); }
};
inline constexpr double kHostChangedSpread =
    1.5;  // floor max/min above this: the host changed speed

// The ring's two targets, measured as pairs taken back to back at the end of the run (reference,
// then the ring), so each ratio comes from one sitting: the round trip at 100 B against the
// cache-line floor, and streaming at 1 KiB against memcpy.
struct TargetPair {
    Measured reference, ring;
};
struct Targets {
    std::vector<TargetPair> round_trip, streaming;
};
// The median of the pairs' ratios: ring p50 / floor p50, or ring bytes/s / memcpy bytes/s.
[[nodiscard]] double target_ratio(const std::vector<TargetPair>& pairs, bool streaming);

struct Run {
    Machine machine;
    Settings settings;
    std::vector<Placement> placements;
    std::vector<std::size_t> sizes;
    std::vector<Row> rows;
    std::vector<Floor> floors;  // by placement index
    Targets targets;            // cross CPU only
};

// Rows whose ping-pong is below kPeersBar of their peers' way ("placement mechanism size").
[[nodiscard]] std::vector<std::string> rows_behind_their_peers(const Run& run);
void print_peers_and_targets(std::FILE* out, const Run& run);  // report_peers.cpp

// The ping-pong cells whose p50 is below their placement's floor ("placement mechanism size"):
// none, unless the floor is wrong. The report prints them.
[[nodiscard]] std::vector<std::string> cells_below_the_floor(const Run& run);

[[nodiscard]] Machine describe_machine();
[[nodiscard]] std::string size_name(std::size_t bytes);  // 100 B, 1 KiB, 1 MiB

void print_tables(std::FILE* out, const Run& run);
// The method lab (lab.cpp): prints its table, returns the number of failed cells. progress, if
// set, is told each cell before it runs.
// Each ping-pong row of the lab, kept for the lab's chart when `rows` is set.
struct LabRow {
    std::string mechanism, method;
    Measured m;
    double factor = 1;  // 0.5: a half round trip
    bool timed = true;  // false: the peers' loop, no latency samples (the chart uses 1 / rate)
};
int run_lab(std::FILE* out, const Settings& base, const std::vector<int>& cpus, std::size_t size,
            void (*progress)(const std::string&), std::vector<LabRow>* rows = nullptr);
// The lab's chart: one bar per row, the round trip's p50 with a whisker to p99, log scale.
void write_lab_svg(std::FILE* out, const std::vector<LabRow>& rows, const Machine& machine,
                   std::size_t size);
// Which tick labels of a chart's axis are drawn, given their centres (px), texts and whether each
// is a power of ten: every power of ten, then each other label that clears those already drawn.
[[nodiscard]] std::vector<bool> labels_that_fit(const std::vector<double>& x,
                                                const std::vector<std::string>& text,
                                                const std::vector<bool>& major);
void write_csv(std::FILE* out, const Run& run);
void write_json(std::FILE* out, const Run& run);
void write_svg(std::FILE* out, const Run& run);

}  // namespace bench
