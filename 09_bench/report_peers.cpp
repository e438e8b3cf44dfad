// report_peers.cpp — two comparisons taken in one sitting: every row that published benchmarks
// also measure against its peers' way (the minimal loop, measured right before and right after
// the row), and the ring's two targets (pairs of reference and ring cells, back to back).
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

// Each side's fastest repetition: the one the host disturbed least. Both sides run the same
// number of repetitions per cell, and the peers' two cells are averaged, not maxed together.
double peers_ratio(const Row& r) {
    if (!r.pingpong || !r.pingpong->ok() || r.peers.empty()) return 0;
    double sum = 0;
    for (const Measured& m : r.peers) {
        if (!m.ok() || m.rate.max <= 0) return 0;
        sum += m.rate.max;
    }
    return r.pingpong->rate.max / (sum / double(r.peers.size()));
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
        if (r.peers.empty()) continue;
        if (!header) {
            std::fprintf(out,
                         "\n== Each row against its peers' way (same run: the minimal loop right "
                         "before and right after it) ==\n");
            std::fprintf(out, "%-9s %-28s %6s %14s %14s %6s  %s\n", "placement", "mechanism",
                         "size", "kit trips/s", "peers' trips/s", "ratio", "the peers' way");
            header = true;
        }
        std::vector<double> theirs;
        for (const auto& m : r.peers)
            if (m.ok()) theirs.push_back(m.rate.max);
        const double ratio = peers_ratio(r);
        char kit[32] = "FAILED", peers[32] = "FAILED", rt[16] = "-";
        if (r.pingpong && r.pingpong->ok())
            std::snprintf(kit, sizeof kit, "%.0f", r.pingpong->rate.max);
        if (theirs.size() == r.peers.size())
            std::snprintf(peers, sizeof peers, "%.0f", (theirs.front() + theirs.back()) / 2);
        if (ratio > 0) std::snprintf(rt, sizeof rt, "%.2f", ratio);
        const Mechanism* p = peers_way_of(r.mech->name);
        std::fprintf(out, "%-9s %-28s %6s %14s %14s %6s  %s%s\n", r.where->name.c_str(),
                     std::string(r.mech->label).c_str(), size_name(r.size).c_str(), kit, peers, rt,
                     p && p != r.mech ? std::string(p->label).c_str() : "same calls",
                     ratio > 0 && ratio < kPeersBar ? "  BEHIND" : "");
        for (const auto& m : r.peers)
            if (!m.ok()) std::fprintf(out, "  FAILED peers' way: %s\n", m.error.c_str());
    }
    if (header)
        std::fprintf(out,
                     "the peers' way: one constant buffer, no clock read per round trip, nothing "
                     "checked, total time / count;\nthe kit's rows check every message and time "
                     "every round trip. ratio = kit / mean of the two peers' cells (bar: %.2f).\n",
                     kPeersBar);
    for (const auto& row : rows_behind_their_peers(run))
        std::fprintf(out, "BEHIND ITS PEERS: %s is below %.2f of its peers' way\n", row.c_str(),
                     kPeersBar);

    const Targets& t = run.targets;
    if (t.round_trip.empty() && t.streaming.empty()) return;
    std::fprintf(out,
                 "\n== The ring's targets, cross CPU (three pairs, each taken back to back) ==\n");
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
