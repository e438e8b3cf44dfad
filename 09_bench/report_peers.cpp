// report_peers.cpp — two comparisons taken in one sitting: every row that published benchmarks
// also measure against its peers' way (the minimal loop, run in the same two processes between
// the row's own repetitions), and the ring's two targets (pairs of reference and ring cells, back
// to back).
#include <algorithm>
#include <cmath>

#include "peers_way.hpp"
#include "report.hpp"

namespace bench {
namespace {

double median_of(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

// Each pair of repetitions ran back to back in the same processes, so their ratio is taken at one
// speed of the host; the median of the ratios leaves out a pair that a disturbance split.
double peers_ratio(const Row& r) {
    if (!r.pingpong || !r.pingpong->ok()) return 0;
    const Measured& m = *r.pingpong;
    std::vector<double> ratios;
    for (std::size_t i = 0; i < m.reps.size() && i < m.peers_reps.size(); ++i) {
        if (m.peers_reps[i] <= 0) return 0;
        ratios.push_back(m.reps[i] / m.peers_reps[i]);
    }
    return median_of(ratios);
}

std::vector<std::string> rows_behind_their_peers(const Run& run) {
    std::vector<std::string> out;
    for (const auto& r : run.rows) {
        const double ratio = peers_ratio(r);
        if (ratio > 0 && ratio < kPeersBar)
            out.push_back(r.where->name + " " + std::string(r.mech->name) + " " +
                          size_name(r.size));
    }
    return out;
}

double target_ratio(const std::vector<TargetPair>& pairs, bool streaming) {
    std::vector<double> ratios;
    for (const auto& [ref, ring] : pairs) {
        if (!ref.ok() || !ring.ok()) continue;
        if (streaming && ref.rate.median > 0)
            ratios.push_back(ring.rate.median * 1024 / ref.rate.median);
        if (!streaming && ring.rate.median > 0)
            ratios.push_back(ref.rate.median / ring.rate.median);
    }
    return median_of(ratios);
}

void print_peers_and_targets(std::FILE* out, const Run& run) {
    bool header = false;
    for (const auto& r : run.rows) {
        const Mechanism* p = peers_way_of(r.mech->name);
        const bool paired = r.pingpong && !r.pingpong->peers_reps.empty();
        if (!paired && !(r.pingpong && !r.pingpong->ok() && p)) continue;
        if (!header) {
            std::fprintf(out,
                         "\n== Each row against its peers' way (same run, same two processes: the "
                         "two loops take turns) ==\n");
            std::fprintf(out, "%-9s %-28s %6s %14s %14s %6s  %s\n", "placement", "mechanism",
                         "size", "kit trips/s", "peers' trips/s", "ratio", "the peers' way");
            header = true;
        }
        const double ratio = peers_ratio(r);
        char kit[32] = "FAILED", peers[32] = "FAILED", rt[16] = "-";
        if (paired && r.pingpong->ok()) {
            std::snprintf(kit, sizeof kit, "%.0f", spread(r.pingpong->reps).median);
            std::snprintf(peers, sizeof peers, "%.0f", spread(r.pingpong->peers_reps).median);
        }
        if (ratio > 0) std::snprintf(rt, sizeof rt, "%.2f", ratio);
        std::fprintf(out, "%-9s %-28s %6s %14s %14s %6s  %s%s\n", r.where->name.c_str(),
                     std::string(r.mech->label).c_str(), size_name(r.size).c_str(), kit, peers, rt,
                     p && p != r.mech ? std::string(p->label).c_str() : "same calls",
                     ratio > 0 && ratio < kPeersBar ? "  BEHIND" : "");
    }
    if (header)
        std::fprintf(out,
                     "the peers' way: one constant buffer, no clock read per round trip, nothing "
                     "checked, total time / count;\nthe kit's rows check every message and time "
                     "round trips. Each of the row's repetitions is paired with one of the peers' "
                     "loop\nright before or after it; trips/s = medians; ratio = median of the "
                     "pairs' ratios (bar: %.2f).\n",
                     kPeersBar);
    for (const auto& row : rows_behind_their_peers(run))
        std::fprintf(out, "BEHIND ITS PEERS: %s is below %.2f of its peers' way\n", row.c_str(),
                     kPeersBar);

    const Targets& t = run.targets;
    if (t.round_trip.empty() && t.streaming.empty()) return;
    const std::size_t n_pairs = std::max(t.round_trip.size(), t.streaming.size());
    std::fprintf(out,
                 "\n== The ring's targets, cross CPU (%zu pair%s, each taken back to back) ==\n",
                 n_pairs, n_pairs == 1 ? "" : "s");
    if (!t.round_trip.empty()) {
        std::fprintf(out, "round trip at 100 B:");
        for (const auto& [ref, ring] : t.round_trip)
            if (ref.ok() && ring.ok() && ref.rate.median > 0 && ring.rate.median > 0)
                std::fprintf(out, "  %.0f / %.0f ns", 1e9 / ring.rate.median,
                             1e9 / ref.rate.median);
        std::fprintf(out, "  (ring, checked / cache-line floor; total time / count)\n");
        const double x = target_ratio(t.round_trip, false);
        std::fprintf(out,
                     "target: shm ring round trip = %.2f x the floor (median of the pairs; goal: "
                     "within 2 x)%s\n",
                     x, x > 2 ? "  MISSED" : "");
    }
    if (!t.streaming.empty()) {
        std::fprintf(out, "streaming at 1 KiB:");
        for (const auto& [ref, ring] : t.streaming)
            if (ref.ok() && ring.ok())
                std::fprintf(out, "  %.0f / %.0f MB/s", ring.rate.median * 1024 / 1e6,
                             ref.rate.median / 1e6);
        std::fprintf(out, "  (ring / memcpy)\n");
        const double x = target_ratio(t.streaming, true);
        std::fprintf(out,
                     "target: shm ring streaming = %.0f %% of memcpy (median of the pairs; goal: "
                     "at least 50 %%)%s\n",
                     100 * x, x < 0.5 ? "  MISSED" : "");
    }
    for (const auto* pairs : {&t.round_trip, &t.streaming})
        for (const auto& [ref, ring] : *pairs)
            for (const Measured* m : {&ref, &ring})
                if (!m->ok()) std::fprintf(out, "FAILED target cell: %s\n", m->error.c_str());
}

}  // namespace bench
