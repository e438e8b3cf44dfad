// ipc_bench — every IPC mechanism of the kit measured the same way, between two real processes,
// in one run. For each mechanism and message size: round trips per second and their latency
// percentiles (ping-pong), and messages per second counted at the receiver (streaming). Each
// cell runs with both processes on one CPU ("same") and on two ("cross") where there are two.
//
// Run:    ./ipc_bench --quick   (in build/<preset>/09_bench; the full run is the target bench_run)
//
//   ipc_bench                       the default run: 100 B and 1 KiB, both placements (~1 min)
//   ipc_bench --quick               a few milliseconds per cell, one pair per target (a smoke test)
//   ipc_bench --sizes all           64 B ... 1 MiB;  --sizes 100,4K,1M  picks sizes
//   ipc_bench --only pipe,shm-ring --cpus cross --format csv
//   ipc_bench --lab [--quick] [--svg F]  the method lab: one ping-pong measured the ways benchmarks
//   do
//
// Prints the ipc-bench-shaped table, latency and throughput tables, the reference rows; exits 1 if
// any cell failed (a message lost, corrupted or reordered, or a stall killed at its deadline).
// With stdout not a terminal, stderr gets one line per finished cell. Ctrl-C (SIGINT, SIGTERM)
// ends the cell under way cleanly; after a kill -9 no name is left (each is removed once both
// sides hold it) and each System V queue pair's remover process takes the queues out.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "kit/check.hpp"
#include "peers_way.hpp"
#include "report.hpp"

namespace {

constexpr std::string_view kUsage =
    "[--quick] [--sizes LIST|all] [--cpus same|cross] [--only NAME,...] [--reps N]\n"
    "       [--budget-ms N] [--format table|csv|json] [--csv FILE] [--json FILE] [--svg FILE]\n"
    "       ipc_bench --lab [--quick] [--sizes SIZE] [--reps N] [--budget-ms N] [--svg FILE]";

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    for (std::size_t at = 0; at <= s.size();) {
        const std::size_t comma = std::min(s.find(',', at), s.size());
        out.push_back(s.substr(at, comma - at));
        at = comma + 1;
    }
    return out;
}

std::size_t parse_size(std::string_view t) {  // 100, 4K, 1M (binary units)
    long unit = 1;
    if (!t.empty() && (t.back() == 'K' || t.back() == 'M'))
        unit = t.back() == 'K' ? 1024 : 1 << 20, t.remove_suffix(1);
    const long v = kit::parse_long(t, 1, 1 << 20) * unit;
    if (v < 16 || v > (1 << 20)) throw kit::UsageError{"message sizes run from 16 B to 1M"};
    return std::size_t(v);
}

void write_file(const std::string& path, void (*writer)(std::FILE*, const bench::Run&),
                const bench::Run& run) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "w"), std::fclose);
    if (!f) throw kit::SysError(errno, "fopen " + path);
    writer(f.get(), run);
}

// What the command line asked for.
struct Options {
    bench::Run run;
    std::string cpus = "both", format = "table", csv, json, svg;
    bool lab = false, quick = false;
    std::vector<const bench::Mechanism*> only;
};

Options parse(std::span<const std::string_view> args) {
    Options o;
    bench::Run& run = o.run;
    run.sizes = {100, 1024};
    // Five short repetitions rather than three long ones: the comparison with the peers' way
    // takes each side's fastest repetition, and more of them make it steadier on a noisy host.
    run.settings.reps = 5;
    run.settings.budget = std::chrono::milliseconds(90);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= args.size()) throw kit::UsageError{std::string(a) + " needs a value"};
            return args[++i];
        };
        if (a == "--lab") {
            o.lab = true;
        } else if (a == "--quick") {
            run.settings = {std::chrono::milliseconds(5), std::chrono::milliseconds(2), 1};
            o.quick = true;
        } else if (a == "--sizes") {
            const auto v = value();
            run.sizes.clear();
            for (auto t : split(v == "all" ? "64,256,1K,4K,16K,64K,256K,1M" : v))
                run.sizes.push_back(parse_size(t));
        } else if (a == "--cpus") {
            o.cpus = value();
            if (o.cpus != "same" && o.cpus != "cross")
                throw kit::UsageError{"--cpus takes same or cross"};
        } else if (a == "--only") {
            for (auto name : split(value())) {
                const auto* m = bench::find_mechanism(name);
                if (!m) {
                    std::string why = "unknown mechanism '";
                    why.append(name).append("'; valid:");
                    for (const auto& k : bench::mechanisms()) why.append(" ").append(k.name);
                    throw kit::UsageError{why};
                }
                o.only.push_back(m);
            }
        } else if (a == "--reps") {
            run.settings.reps = int(kit::parse_long(value(), 1, 15));
        } else if (a == "--budget-ms") {
            run.settings.budget = std::chrono::milliseconds(kit::parse_long(value(), 1, 10000));
        } else if (a == "--format") {
            o.format = value();
            if (o.format != "table" && o.format != "csv" && o.format != "json")
                throw kit::UsageError{"--format takes table, csv or json"};
        } else if (a == "--csv" || a == "--json" || a == "--svg") {
            (a == "--csv" ? o.csv : a == "--json" ? o.json : o.svg) = value();
        } else {
            throw kit::unexpected(a);
        }
    }
    return o;
}

// One cell to run: a row, and which of its two measurements, or a measurement of the floor. A
// ping-pong with `beside` runs its peers' way beside it, repetition by repetition.
struct Cell {
    std::size_t row;
    bench::Mode mode;
    enum Kind { own, floor } kind = own;
    const bench::Mechanism* beside = nullptr;
};

// The plan: every row of the tables and the cells that fill it (a fixed-size row is measured
// once). Before every ping-pong cell the floor bounds, a floor measurement (report.hpp); a
// ping-pong that published benchmarks also measure runs their minimal loop beside its own.
std::vector<Cell> plan(bench::Run& run, const std::vector<const bench::Mechanism*>& todo) {
    std::vector<Cell> cells;
    for (const auto& p : run.placements)
        for (const auto* m : todo) {
            if (m->needs_two_cpus && p.cpu_a == p.cpu_b)
                continue;  // a spin on one CPU waits out time slices
            for (std::size_t s : run.sizes) {
                run.rows.push_back({m, &p, s, {}, {}});
                if (m->fixed_size && s != run.sizes.front()) continue;
                if (m->make) cells.push_back({run.rows.size() - 1, bench::Mode::pingpong});
                if (m->streams) cells.push_back({run.rows.size() - 1, bench::Mode::stream});
            }
        }
    run.floors.resize(run.placements.size());
    std::vector<Cell> planned;
    for (const Cell& c : cells) {
        const bench::Row& r = run.rows[c.row];
        const bool pp = c.mode == bench::Mode::pingpong && !r.mech->reference;
        const auto* peers = pp ? bench::peers_way_of(r.mech->name) : nullptr;
        const bool with_peers =
            peers && !(peers->needs_two_cpus && r.where->cpu_a == r.where->cpu_b);
        if (pp)
            for (std::size_t f = 0; f < run.rows.size(); ++f)
                if (run.rows[f].where == r.where && run.rows[f].mech->name == "cache-line" &&
                    run.rows[f].size == run.sizes.front())
                    planned.push_back({f, bench::Mode::pingpong, Cell::floor});
        planned.push_back({c.row, c.mode, Cell::own, with_peers ? peers : nullptr});
    }
    return planned;
}

// The ring's targets in one sitting: `pairs` pairs each (three; one for --quick, a smoke test), a
// reference then the ring, back to back.
void measure_targets(bench::Run& run, const bench::Settings& floor_cell,
                     const bench::Settings& short_cell, int pairs,
                     void (*progress)(const std::string&)) {
    const bench::Placement* cross = nullptr;
    for (const auto& p : run.placements)
        if (p.cpu_a != p.cpu_b) cross = &p;
    if (!cross) return;
    const auto& ring = *bench::find_mechanism("shm-ring");
    const auto& copy = *bench::find_mechanism("memcpy");
    const std::string of = std::string(1, '/').append(std::to_string(pairs));
    for (int i = 0; i < pairs; ++i) {
        progress("cross  targets  round trip " + std::to_string(i + 1) + of);
        run.targets.round_trip.push_back(
            {bench::measure_floor(*cross, floor_cell),
             bench::run_cell(ring, 100, *cross, bench::Mode::pingpong, short_cell)});
        bench::raise_if_interrupted();
    }
    for (int i = 0; i < pairs; ++i) {
        progress("cross  targets  streaming " + std::to_string(i + 1) + of);
        run.targets.streaming.push_back(
            {bench::run_cell(copy, 1024, *cross, bench::Mode::stream, short_cell),
             bench::run_cell(ring, 1024, *cross, bench::Mode::stream, short_cell)});
        bench::raise_if_interrupted();
    }
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, kUsage, [](std::span<const std::string_view> args) {
        Options o = parse(args);
        bench::Run& run = o.run;
        const auto cpu = bench::allowed_cpus();
        if (o.lab) {
            if (!o.only.empty() || o.cpus != "both" || o.format != "table" || !o.csv.empty() ||
                !o.json.empty())
                throw kit::UsageError{
                    "--lab takes only --quick, --sizes, --reps, --budget-ms and --svg"};
            bench::stop_cells_on_signals();
            static bool on_terminal = ::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO);
            std::vector<bench::LabRow> rows;
            const int failed = bench::run_lab(
                stdout, run.settings, cpu, run.sizes.front(),
                [](const std::string& what) {
                    if (on_terminal)
                        std::fprintf(stderr, "\r%-70s\r", (what + " ...").c_str());
                    else
                        std::fprintf(stderr, "ipc_bench: lab cell %s\n", what.c_str());
                    bench::raise_if_interrupted();
                },
                &rows);
            bench::raise_if_interrupted();
            if (!o.svg.empty()) {
                const bench::Machine machine = bench::describe_machine();
                std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(o.svg.c_str(), "w"),
                                                                  std::fclose);
                if (!f) throw kit::SysError(errno, "fopen " + o.svg);
                bench::write_lab_svg(f.get(), rows, machine, run.sizes.front());
            }
            return failed ? 1 : 0;
        }
        if (o.cpus != "cross") run.placements.push_back({"same", cpu[0], cpu[0]});
        if (o.cpus != "same" && cpu.size() >= 2)
            run.placements.push_back({"cross", cpu[0], cpu[1]});
        if (run.placements.empty())
            throw kit::UsageError{"--cpus cross needs two CPUs; this process may use one"};
        run.placements.shrink_to_fit();  // rows point into it from here on
        run.machine = bench::describe_machine();

        std::vector<const bench::Mechanism*> todo = o.only;
        if (todo.empty())
            for (const auto& m : bench::mechanisms()) todo.push_back(&m);
        const std::vector<Cell> cells = plan(run, todo);
        bench::Settings floor_settings = run.settings;
        floor_settings.reps = 1;
        floor_settings.budget = std::min(floor_settings.budget, std::chrono::milliseconds(20));
        floor_settings.warmup = std::min(floor_settings.warmup, std::chrono::milliseconds(5));
        floor_settings.peers_way = true;  // total time / count: nothing measured can beat it
        bench::stop_cells_on_signals();   // Ctrl-C: the cell under way cleans up, then we end
        // On a terminal one progress line redraws itself; into a pipe or file (a CI log) stdout
        // says nothing until the end, so stderr gets one line per finished cell instead.
        const bool on_terminal = ::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO);
        const bool log_cells = !::isatty(STDOUT_FILENO);
        std::size_t failed = 0, done = 0;
        for (const Cell& c : cells) {
            bench::Row& r = run.rows[c.row];
            const bool pp = c.mode == bench::Mode::pingpong;
            const std::string what =
                r.where->name + "  " + std::string(r.mech->name) + "  " +
                bench::size_name(r.mech->fixed_size ? r.mech->fixed_size : r.size) +
                (c.kind == Cell::floor ? "  floor"
                 : c.beside            ? "  ping-pong beside its peers' way"
                 : pp                  ? "  ping-pong"
                                       : "  stream");
            if (on_terminal) std::fprintf(stderr, "\r%-70s", (what + " ...").c_str());
            bench::Settings own_settings = run.settings;
            own_settings.peers_beside = c.beside;
            const bench::Measured m =
                c.kind == Cell::floor
                    ? bench::measure_floor(*r.where, floor_settings)
                    : bench::run_cell(*r.mech, r.size, *r.where, c.mode, own_settings);
            bench::raise_if_interrupted();
            failed += !m.ok();
            if (log_cells)
                std::fprintf(stderr, "ipc_bench: cell %zu/%zu %s: %s\n", ++done, cells.size(),
                             what.c_str(), m.ok() ? "ok" : ("FAILED: " + m.error).c_str());
            const std::size_t at = std::size_t(r.where - run.placements.data());
            if (c.kind == Cell::floor && m.ok() && m.rate.median > 0)
                run.floors[at].trip_us.push_back(1e6 / m.rate.median);
            if (c.kind == Cell::own) (pp ? r.pingpong : r.stream) = m;
        }
        bench::Settings target_settings = floor_settings;
        target_settings.peers_way = false;
        measure_targets(run, floor_settings, target_settings, o.quick ? 1 : 3,
                        [](const std::string& what) {
                            if (::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO))
                                std::fprintf(stderr, "\r%-70s", (what + " ...").c_str());
                            else
                                std::fprintf(stderr, "ipc_bench: %s\n", what.c_str());
                        });
        for (const auto& t : run.targets.round_trip) failed += !t.reference.ok() + !t.ring.ok();
        for (const auto& t : run.targets.streaming) failed += !t.reference.ok() + !t.ring.ok();
        // A fixed-size row shows its one measurement at every size.
        for (auto& r : run.rows)
            if (r.mech->fixed_size && r.size != run.sizes.front())
                for (const auto& first : run.rows)
                    if (first.mech == r.mech && first.where == r.where &&
                        first.size == run.sizes.front())
                        r.pingpong = first.pingpong, r.stream = first.stream;
        if (on_terminal) std::fprintf(stderr, "\r%-70s\r", "");
        if (o.format == "csv")
            bench::write_csv(stdout, run);
        else if (o.format == "json")
            bench::write_json(stdout, run);
        else
            bench::print_tables(stdout, run);
        if (!o.csv.empty()) write_file(o.csv, bench::write_csv, run);
        if (!o.json.empty()) write_file(o.json, bench::write_json, run);
        if (!o.svg.empty()) write_file(o.svg, bench::write_svg, run);
        return failed ? 1 : 0;
    });
}
