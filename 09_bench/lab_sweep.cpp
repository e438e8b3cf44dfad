// lab_sweep.cpp — the method lab's open-loop rate sweep. A ping-pong measures a receiver that is
// always waiting for the next message; a real service gets messages at some rate, and between two
// of them its receiver may fall asleep. Here a offers one-way messages at fixed rates (roles in
// lab_roles.cpp), from 1 kHz up to the rate the mechanism no longer keeps up with, and each row
// gives the one-way latency from the due time and the CPU time each side spends per message.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.hpp"
#include "report.hpp"

namespace bench {

int run_sweep(std::FILE* out, const Settings& base, const std::vector<int>& cpus, std::size_t size,
              void (*progress)(const std::string&)) {
    constexpr double kRates[] = {1e3, 1e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6};
    constexpr const char* kSwept[] = {"pipe", "unix-stream", "shm-ring"};
    Settings s = base;
    s.budget = std::clamp(base.budget / 2, std::chrono::milliseconds(5),
                          std::chrono::milliseconds(50));  // per point (at least 50 messages)
    s.deadline = std::chrono::seconds(10);
    std::vector<Placement> where;
    if (cpus.size() >= 2) where.push_back({"cross", cpus[0], cpus[1]});
    where.push_back({"same", cpus[0], cpus[0]});
    std::fprintf(out,
                 "\n== Open-loop sweep: %s one-way messages offered at fixed rates, until the "
                 "mechanism falls behind ==\n",
                 size_name(size).c_str());
    std::fprintf(out, "%-26s %-5s %10s %11s %9s %9s %10s %10s  %s\n", "mechanism", "CPUs",
                 "offered/s", "achieved/s", "p50 us", "p99 us", "a CPU us", "b CPU us", "");
    int failed = 0;
    for (const char* name : kSwept) {
        const Mechanism& m = *find_mechanism(name);
        for (const Placement& p : where) {
            for (double rate : kRates) {
                s.rate = rate, s.sender_spins = p.name != "same";
                char offered[32];
                std::snprintf(offered, sizeof offered, "%.0f", rate);
                if (progress)
                    progress(std::string(m.name) + "  open loop " + p.name + " " + offered);
                const Measured r = run_cell(m, size, p, Mode::open_loop, s);
                if (!r.ok() || r.count != r.offered) {
                    ++failed;
                    std::fprintf(out, "%-26s %-5s %10s  FAILED: %s\n", std::string(m.label).c_str(),
                                 p.name.c_str(), offered,
                                 r.ok() ? "messages lost" : r.error.c_str());
                    break;
                }
                const bool behind = r.rate.median < 0.9 * rate;
                std::fprintf(out, "%-26s %-5s %10s %11.0f %9.2f %9.2f %10.2f %10.2f  %s\n",
                             std::string(m.label).c_str(), p.name.c_str(), offered, r.rate.median,
                             r.p50_us, r.p99_us, r.cpu_us_a, r.cpu_us_b,
                             behind ? "saturated: achieved < 90 % of offered" : "");
                if (behind) break;
            }
        }
    }
    std::fprintf(
        out,
        "Latency: one way, receive time - due time (CLOCK_MONOTONIC), so a sender that falls "
        "behind counts.\n"
        "a CPU us, b CPU us: the sender's and the receiver's user + system time (getrusage) per "
        "message.\n"
        "Cross CPU, a sleeps in clock_nanosleep() until 20 us before each due time, then spins "
        "(from 25 kHz up\n"
        "it never sleeps); on one CPU it only sleeps. Where b has time to fall asleep between "
        "messages, every\n"
        "message pays a wake-up; the ring's b spins its budget first, so at low rates that "
        "spin is most of\n"
        "its CPU. Compare rows of one run: other work on the machine shows as p99.\n");
    return failed;
}

}  // namespace bench
