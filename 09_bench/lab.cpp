// lab.cpp — ipc_bench --lab: the method lab. The same ping-pong, for a pipe, a Unix stream
// socket, the shm ring and an eventfd, measured the ways published benchmarks measure it, one
// method changed per row, so a reader can see what each choice does to "the" number:
// processes or threads, a full round trip or half of one, spinning or blocking (with the CPU
// time both sides spend per round trip), the payload written and checked or untouched, and
// where the scheduler puts the two sides. For the kernel mechanisms, the same three ways of
// waiting: block in read(), spin on EAGAIN, or spin a little then sleep in poll(). After the
// table, an open-loop rate sweep (lab_sweep.cpp).
#include <climits>
#include <cstdio>
#include <string>

#include "harness.hpp"
#include "report.hpp"

namespace bench {

// The open-loop rate sweep (lab_sweep.cpp): prints its table, returns the points that failed.
int run_sweep(std::FILE* out, const Settings& base, const std::vector<int>& cpus, std::size_t size,
              void (*progress)(const std::string&));

namespace {

constexpr int kKernelTries = 100;  // spin then block: nonblocking attempts before poll()

struct Method {
    const char* name;
    const char* explained;  // one line: what it is, and who publishes this kind of number
    bool threads = false, untouched = false, half = false, ring_only = false;
    bool derived = false;      // computed from the baseline row, not measured again
    bool each_timed = false;   // derived: the baseline's rate while each round trip was timed
    int spins = -1;            // for the ring: -1 keeps the default (spin, then futex)
    bool kernel_only = false;  // pipe, socket, eventfd: the wait below instead of read()'s own
    bool peers_loop = false;   // the loop published benchmarks write (peers_way.cpp)
    KernelWait wait = KernelWait::block;
    const char* where;  // "cross", "same" or "unpinned"
};

const Method kMethods[] = {
    {.name = "processes, cross CPU",
     .explained = "the baseline: two processes, one CPU each, full round trip, payload checked",
     .where = "cross"},
    {.name = "half round trip",
     .explained = "the baseline halved: a one-way figure, as many latency tables give",
     .half = true,
     .derived = true,
     .where = "cross"},
    {.name = "each trip timed",
     .explained = "the baseline's rate while each round trip is timed on its own (a clock read "
                  "each): what its latency samples cost",
     .derived = true,
     .each_timed = true,
     .where = "cross"},
    {.name = "threads, cross CPU",
     .explained = "two threads of one process: what in-process benchmarks measure",
     .threads = true,
     .where = "cross"},
    {.name = "same CPU",
     .explained = "both on one CPU: every hand-off is a context switch",
     .where = "same"},
    {.name = "unpinned",
     .explained = "the scheduler places both, as ipc-bench runs",
     .where = "unpinned"},
    {.name = "payload untouched",
     .explained = "only the 8-byte sequence word written and read: a constant buffer resent",
     .untouched = true,
     .where = "cross"},
    {.name = "spin only",
     .explained = "the ring never sleeps: each side burns its CPU while it waits",
     .ring_only = true,
     .spins = INT_MAX,
     .where = "cross"},
    {.name = "block only",
     .explained = "the ring always sleeps in futex(): a kernel wake-up per message, like a pipe",
     .ring_only = true,
     .spins = 0,
     .where = "cross"},
    {.name = "peers' loop",
     .explained = "the same transport in the loop ipc-bench writes: one constant buffer, no clock "
                  "read, nothing checked, total time / count (no p50)",
     .peers_loop = true,
     .where = "cross"},
    {.name = "spin on EAGAIN",
     .explained = "O_NONBLOCK, read() retried until data comes: busy polling; no sleep, a "
                  "syscall per try",
     .kernel_only = true,
     .wait = KernelWait::spin,
     .where = "cross"},
    {.name = "100 tries, then poll",
     .explained = "100 nonblocking reads, then poll() sleeps: spin then block, as the ring "
                  "does",
     .kernel_only = true,
     .wait = KernelWait::spin_then_block,
     .where = "cross"},
    {.name = "iceoryx2's way",
     .explained = "threads pinned apart, spinning, payload untouched, halved; its benchmark prints "
                  "total time / round trips / 2, here",
     .threads = true,
     .untouched = true,
     .half = true,
     .ring_only = true,
     .spins = INT_MAX,
     .where = "cross"},
};

constexpr const char* kMechanisms[] = {"pipe", "unix-stream", "shm-ring", "eventfd"};

std::string num(double v, const char* fmt) {
    char b[32];
    std::snprintf(b, sizeof b, fmt, v);
    return b;
}

}  // namespace

int run_lab(std::FILE* out, const Settings& base, const std::vector<int>& cpus, std::size_t size,
            void (*progress)(const std::string&), std::vector<LabRow>* rows) {
    const Placement same{"same", cpus[0], cpus[0]}, unpinned{"unpinned", 0, 0, false};
    const bool two = cpus.size() >= 2;
    const Placement cross{"cross", cpus[0], two ? cpus[1] : cpus[0]};
    std::fprintf(out,
                 "== Method lab: one ping-pong, measured the ways benchmarks measure it (%s) ==\n",
                 size_name(size).c_str());
    std::fprintf(out, "%-26s %-22s %9s %9s %13s %12s  %s\n", "mechanism", "method", "p50 us",
                 "p99 us", "round trips/s", "CPU us/trip", "what it is");
    int failed = 0;
    for (const char* name : kMechanisms) {
        const Mechanism& m = *find_mechanism(name);
        Measured baseline;
        for (const Method& how : kMethods) {
            if (how.ring_only && m.name != "shm-ring") continue;
            if (how.kernel_only && m.name == "shm-ring") continue;
            if (how.untouched && m.fixed_size) continue;  // 8 bytes are the sequence word itself
            const std::string where = how.where;
            if (where == "cross" && !two) continue;
            Measured r = baseline;
            if (!how.derived) {
                Settings s = base;
                s.threads = how.threads, s.touch_payload = !how.untouched;
                s.peers_way = how.peers_loop;
                if (how.spins >= 0) set_ring_spins(how.spins);
                set_kernel_wait(how.wait, kKernelTries);
                if (progress) progress(std::string(m.name) + "  " + how.name);
                r = run_cell(m, size,
                             where == "same"    ? same
                             : where == "cross" ? cross
                                                : unpinned,
                             Mode::pingpong, s);
                set_ring_spins(2048);
                set_kernel_wait(KernelWait::block);
                if (where == "cross" && !how.threads && !how.untouched && how.spins < 0 &&
                    !how.kernel_only && !how.peers_loop)
                    baseline = r;
            }
            const bool ok = r.ok() && r.count;
            const bool timed = ok && !how.peers_loop;  // the peers' loop takes no latency sample
            failed += !r.ok();
            const double f = how.half ? 0.5 : 1;
            std::string explained = how.explained;
            if (how.half && !how.derived && ok)
                explained.append(" ").append(num(1e6 / r.rate.median / 2, "%.2f")).append(" us");
            std::fprintf(
                out, "%-26s %-22s %9s %9s %13s %12s  %s\n", std::string(m.label).c_str(), how.name,
                timed ? num(r.p50_us * f, "%.2f").c_str()
                : ok  ? "-"
                      : "FAILED",
                timed ? num(r.p99_us * f, "%.2f").c_str() : "-",
                ok && how.each_timed ? num(r.timed_rate, "%.0f").c_str()
                : ok && !how.derived ? num(r.rate.median, "%.0f").c_str()
                                     : "-",
                ok && !how.derived ? num(r.cpu_us_per_op, "%.2f").c_str() : "-", explained.c_str());
            if (!r.ok()) std::fprintf(out, "  FAILED: %s\n", r.error.c_str());
            if (rows && ok && !how.each_timed)  // its bar would repeat the baseline's
                rows->push_back({std::string(m.label), how.name, r, f, timed});
        }
    }
    if (!two) std::fprintf(out, "(one CPU allowed: the cross-CPU rows are not measured)\n");
    failed += run_sweep(out, base, cpus, size, progress);
    // The first table's note closes the output (the sweep prints its own notes under it).
    std::fprintf(
        out,
        "CPU us/trip: user + system time of both sides (getrusage) per round trip; above the "
        "p50, a side spun while it waited.\n");
    return failed;
}

}  // namespace bench
