// report_text.cpp — the terminal tables: round trips per second in ipc-bench's (note 000's) shape
// (with ipc-bench's figure and our ratio to it), latency percentiles, streaming throughput,
// then the two reference rows and each mechanism's distance from them.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>

#include "kit/check.hpp"
#include "kit/proc.hpp"
#include "report.hpp"

namespace bench {
namespace {

// 1234567.8 → "1,234,568"
std::string grouped(double v) {
    std::string digits = std::to_string(std::llround(v)), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string fixed(double v, int decimals) {
    char b[32];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return b;
}

std::string cell_text(const std::optional<Measured>& m, bool as_rate = true) {
    if (!m) return "-";
    if (!m->ok()) return "FAILED";
    return as_rate ? grouped(m->rate.median) : "";
}

// goldsborough/ipc-bench's published msg/s (its README's table, quoted by note 000; other
// hardware, unpinned, 1,000 messages per run), beside the row of ours that does the same work.
struct Quoted {
    std::string_view ours;    // our mechanism's name
    std::string_view theirs;  // ipc-bench's row
    double at_100, at_1k;     // 0: "--broken--"
    bool signal_wakeups;      // ipc-bench wakes every hop with a signal in this row
};
constexpr Quoted kIpcBench[] = {
    {"pipe", "Pipes", 162'441, 155'404, true},
    {"pipe-signal", "Pipes", 162'441, 155'404, true},
    {"fifo", "FIFOs (named pipes)", 265'823, 254'880, true},
    {"sysv-mq", "Message Queues", 232'253, 213'796, false},
    {"unix-stream", "Domain sockets", 130'372, 127'582, false},
    {"tcp", "Internet sockets (TCP)", 70'221, 67'901, false},
    {"shm-ring", "Shared Memory", 4'702'557, 1'659'291, false},
    {"mmap-file", "Memory-Mapped Files", 5'338'860, 1'701'759, false},
    {"rt-signal", "Unix Signals", 0, 0, false},
};
constexpr const char* kSignalNote =
    "(s) ipc-bench's pipe and FIFO rows move the data one way and wake every hop with kill(0, "
    "SIGUSR1/2) +\n"
    "    sigwait(): they time a signal round trip, not a pipe's. Compare them with 'pipe + signal "
    "wake-up'.";

const Quoted* quoted_for(std::string_view mech) {
    for (const auto& q : kIpcBench)
        if (q.ours == mech) return &q;
    return nullptr;
}

const Floor& floor_of(const Run& run, const Placement& p) {
    static const Floor none;
    const std::size_t at = std::size_t(&p - run.placements.data());
    return at < run.floors.size() ? run.floors[at] : none;
}

const Row* find(const Run& run, const Placement& p, std::string_view mech, std::size_t size) {
    for (const auto& r : run.rows)
        if (r.where == &p && r.mech->name == mech && r.size == size) return &r;
    return nullptr;
}

void print_failures(std::FILE* out, const Run& run) {
    for (const auto& r : run.rows)
        for (const auto* m : {&r.pingpong, &r.stream})
            if (*m && !(*m)->ok())
                std::fprintf(out, "FAILED %s, %s, %s, %s: %s\n", r.where->name.c_str(),
                             std::string(r.mech->name).c_str(), size_name(r.size).c_str(),
                             m == &r.pingpong ? "ping-pong" : "stream", (*m)->error.c_str());
}

}  // namespace

std::string size_name(std::size_t b) {
    if (b >= (1 << 20) && b % (1 << 20) == 0) return std::to_string(b >> 20) + " MiB";
    if (b >= 1024 && b % 1024 == 0) return std::to_string(b >> 10) + " KiB";
    return std::to_string(b) + " B";
}

Machine describe_machine() {
    Machine m;
    utsname u{};
    kit::check(::uname(&u), "uname");
    m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
    std::ifstream cpuinfo("/proc/cpuinfo");
    bool hypervisor = false;
    for (std::string line; std::getline(cpuinfo, line);) {
        if (m.cpu_model.empty() && line.rfind("model name", 0) == 0)
            m.cpu_model = line.substr(line.find(':') + 2);
        if (line.rfind("flags", 0) == 0 && line.find(" hypervisor") != std::string::npos)
            hypervisor = true;
    }
    m.virtualised = hypervisor ? "yes (virtual machine: cpuinfo has the hypervisor flag)"
                               : "no hypervisor flag in /proc/cpuinfo";
    m.cores = int(::sysconf(_SC_NPROCESSORS_ONLN));
    char date[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    m.date = date;
    m.clock_ns = clock_cost_ns();
    m.spin = ring_spin_budget();
    return m;
}

void print_tables(std::FILE* out, const Run& run) {
    const Machine& mc = run.machine;
    std::fprintf(out, "ipc_bench: %s | %s | %d CPUs | virtualised: %s\n", mc.kernel.c_str(),
                 mc.cpu_model.c_str(), mc.cores, mc.virtualised.c_str());
    std::fprintf(
        out,
        "%s | %d repetitions x %lld ms per cell, median shown | one clock read costs %.0f ns "
        "(inside every latency sample)\n",
        mc.date.c_str(), run.settings.reps, static_cast<long long>(run.settings.budget.count()),
        mc.clock_ns);
    std::fprintf(
        out, "the shm ring spins %s pauses before it sleeps: %.1f us here (%.1f ns per pause)\n",
        grouped(mc.spin.pauses).c_str(), mc.spin.ns / 1e3, mc.spin.ns / mc.spin.pauses);
    const bool ipcbench_cols =
        std::find(run.sizes.begin(), run.sizes.end(), 100) != run.sizes.end() &&
        std::find(run.sizes.begin(), run.sizes.end(), 1024) != run.sizes.end();
    for (const auto& p : run.placements) {
        std::fprintf(out,
                     "\n== Round trips per second (ping-pong; ipc-bench's \"msg/s\"), placement "
                     "%s: CPU %d <-> CPU %d ==\n",
                     p.name.c_str(), p.cpu_a, p.cpu_b);
        std::fprintf(out, "%-28s", "mechanism");
        for (auto s : run.sizes) std::fprintf(out, " %12s", size_name(s).c_str());
        if (ipcbench_cols)
            std::fprintf(out, " %15s %15s %7s %7s", "ipc-bench 100 B", "ipc-bench 1 KiB", "ratio",
                         "ratio");
        std::fprintf(out, "\n");
        bool signal_note = false;
        for (const auto& m : mechanisms()) {
            if (!m.make || !find(run, p, m.name, run.sizes.front())) continue;
            std::fprintf(out, "%-28s", std::string(m.label).c_str());
            for (auto s : run.sizes)
                std::fprintf(out, " %12s", cell_text(find(run, p, m.name, s)->pingpong).c_str());
            const Quoted* q = ipcbench_cols ? quoted_for(m.name) : nullptr;
            if (q) {
                auto ratio = [&](std::size_t s, double theirs) {
                    const auto& pp = find(run, p, m.name, s)->pingpong;
                    return (theirs > 0 && pp && pp->ok()) ? fixed(pp->rate.median / theirs, 2)
                                                          : std::string("-");
                };
                std::fprintf(out, " %15s %15s %7s %7s%s",
                             q->at_100 ? grouped(q->at_100).c_str() : "--broken--",
                             q->at_1k ? grouped(q->at_1k).c_str() : "--broken--",
                             ratio(100, q->at_100).c_str(), ratio(1024, q->at_1k).c_str(),
                             q->signal_wakeups ? "  (s)" : "");
                signal_note = signal_note || q->signal_wakeups;
            }
            std::fprintf(out, "\n");
        }
        if (ipcbench_cols)
            std::fprintf(out,
                         "%-28s %12s %12s %15s %15s   (not measured: the kit depends on nothing)\n",
                         "ZeroMQ (TCP)", "-", "-", "24,901", "22,679");
        if (signal_note) std::fprintf(out, "%s\n", kSignalNote);
    }
    for (const auto& p : run.placements) {
        std::fprintf(out,
                     "\n== Latency of one round trip and streaming throughput, placement %s ==\n",
                     p.name.c_str());
        std::fprintf(out, "%-28s %8s %9s %9s %9s %23s %14s %9s\n", "mechanism", "size", "p50 us",
                     "p99 us", "p99.9 us", "round trips/s [min-max]", "stream msgs/s", "MB/s");
        for (const auto& r : run.rows) {
            if (r.where != &p || !r.mech->make ||
                (r.mech->fixed_size && r.size != run.sizes.front()))
                continue;
            const std::size_t bytes = r.mech->fixed_size ? r.mech->fixed_size : r.size;
            std::string lat[3] = {"-", "-", "-"}, range = cell_text(r.pingpong);
            if (r.pingpong && r.pingpong->ok()) {
                char b[3][32];
                std::snprintf(b[0], 32, "%.2f", r.pingpong->p50_us),
                    std::snprintf(b[1], 32, "%.2f", r.pingpong->p99_us),
                    std::snprintf(b[2], 32, "%.2f", r.pingpong->p999_us);
                lat[0] = b[0], lat[1] = b[1], lat[2] = b[2];
                range = grouped(r.pingpong->rate.min) + "-" + grouped(r.pingpong->rate.max);
            }
            const bool st_ok = r.stream && r.stream->ok();
            std::fprintf(
                out, "%-28s %8s %9s %9s %9s %23s %14s %9s\n", std::string(r.mech->label).c_str(),
                size_name(bytes).c_str(), lat[0].c_str(), lat[1].c_str(), lat[2].c_str(),
                range.c_str(), cell_text(r.stream).c_str(),
                st_ok ? grouped(r.stream->rate.median * double(bytes) / 1e6).c_str() : "-");
        }
    }
    std::fprintf(out, "\n== Reference rows and each mechanism's distance from them ==\n");
    for (const auto& p : run.placements) {
        const Floor& fl = floor_of(run, p);
        const Row* copy = find(run, p, "memcpy", run.sizes.front());
        const bool line_ok = fl.measured();
        const bool copy_ok = copy && copy->stream && copy->stream->ok();
        const Spread f = fl.spread();
        const double floor_us = f.min;  // the floor: the fastest of its interleaved measurements
        const double copy_mbs = copy_ok ? copy->stream->rate.median / 1e6 : 0;
        std::fprintf(
            out, "placement %s: cache-line round trip %s, memcpy %s\n", p.name.c_str(),
            line_ok ? (fixed(f.min * 1e3, 0) + " ns (total time / count; min; median " +
                       fixed(f.median * 1e3, 0) + " ns, max " + fixed(f.max * 1e3, 0) + " ns of " +
                       std::to_string(fl.trip_us.size()) + " runs between the cells)")
                          .c_str()
                    : "not measured (a pure spin needs two CPUs)",
            copy_ok ? (grouped(copy_mbs) + " MB/s").c_str() : "not measured");
        if (fl.trip_us.size() >= 2)
            std::fprintf(out, "  host: %s (the floor's max/min is %.2f)\n",
                         f.max / f.min > kHostChangedSpread
                             ? "changed speed during the run - a busy neighbour, a frequency or "
                               "power state; "
                               "compare only cells measured close together"
                             : "kept its speed",
                         f.max / f.min);
        const std::size_t s = run.sizes.back();
        std::fprintf(out, "  %-28s %10s %18s %14s\n", ("at " + size_name(s)).c_str(), "round trip",
                     "x cache-line floor", "% of memcpy");
        for (const auto& m : mechanisms()) {
            const Row* r = find(run, p, m.name, s);
            if (m.reference || !r || !r->pingpong || !r->pingpong->ok()) continue;
            if (r->pingpong->rate.median <= 0) continue;
            const double rt_us = 1e6 / r->pingpong->rate.median;  // total time / count
            const std::size_t bytes = m.fixed_size ? m.fixed_size : s;
            const bool st = r->stream && r->stream->ok() && copy_ok;
            std::fprintf(
                out, "  %-28s %7.2f us %18s %14s\n", std::string(m.label).c_str(), rt_us,
                line_ok ? (fixed(rt_us / floor_us, 1) + " x").c_str() : "-",
                st ? (fixed(100 * r->stream->rate.median * double(bytes) / 1e6 / copy_mbs, 1) +
                      " %")
                         .c_str()
                   : "-");
        }
    }
    print_peers_and_targets(out, run);
    for (const auto& cell : cells_below_the_floor(run))
        std::fprintf(
            out,
            "FLOOR BEATEN: %s has a round trip below its placement's cache-line floor: the floor "
            "is wrong\n",
            cell.c_str());
    print_failures(out, run);
}

std::vector<std::string> cells_below_the_floor(const Run& run) {
    std::vector<std::string> out;
    for (const auto& r : run.rows) {
        const Floor& fl = floor_of(run, *r.where);
        if (!fl.measured() || r.mech->reference) continue;
        // Like with like: each cell's round trip as total time / count, as the floor is measured.
        auto below = [&](const Measured& m) {
            return m.ok() && m.rate.median > 0 && 1e6 / m.rate.median < fl.spread().min;
        };
        const std::string name =
            r.where->name + " " + std::string(r.mech->name) + " " + size_name(r.size);
        if (r.pingpong && below(*r.pingpong)) out.push_back(name);
        if (r.pingpong && r.pingpong->ok() && !r.pingpong->peers_reps.empty() &&
            1e6 / spread(r.pingpong->peers_reps).median < fl.spread().min)
            out.push_back(name + " (peers' way)");
    }
    return out;
}

}  // namespace bench
