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
    std::optional<Measured> pingpong, stream;
};

struct Run {
    Machine machine;
    Settings settings;
    std::vector<Placement> placements;
    std::vector<std::size_t> sizes;
    std::vector<Row> rows;
};

[[nodiscard]] Machine describe_machine();
[[nodiscard]] std::string size_name(std::size_t bytes);  // 100 B, 1 KiB, 1 MiB

void print_tables(std::FILE* out, const Run& run);
void write_csv(std::FILE* out, const Run& run);
void write_json(std::FILE* out, const Run& run);
void write_svg(std::FILE* out, const Run& run);

}  // namespace bench
