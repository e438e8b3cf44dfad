// harness.cpp — how a cell runs. Two children are forked and pinned; each learns the other's pid
// from the parent, opens its end of the Link, and plays its role (roles.cpp); the first exchange
// through the mechanism proves both are ready before any clock starts. The parent collects both
// reports, and kills and reaps the children at a deadline, so a stalled transport becomes a
// failed cell and the run goes on. A child dies with the parent (PR_SET_PDEATHSIG), so a killed
// run leaves no child spinning on a peer that will never answer.
#include "harness.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kit/child.hpp"
#include "roles.hpp"

namespace bench {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;  // the signal that asked the run to stop, or 0
extern "C" void note_stop_signal(int sig) { g_stop_signal = sig; }
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    kit::check(::sched_setaffinity(0, sizeof set, &set), "sched_setaffinity");
}

// The body of one child: learn the peer's pid from the parent, pin, open, measure, report.
int child(Link* link, Link* peers_link, Role role, std::size_t size, int cpu, int peer_cpu,
          Mode mode, const Settings& s, int start_fd, int report_fd, pid_t parent) {
    Report r, rb;  // rb: side b, when it runs as a thread of this process (Settings::threads)
    std::thread b;
    try {
        // Read first, so the parent's write always finds a reader (no SIGPIPE if a step below
        // fails).
        pid_t peer = 0;
        if (kit::read_full(start_fd, std::as_writable_bytes(std::span(&peer, 1))) != sizeof peer)
            return 1;  // the parent gave up before starting us
        for (int sig : kStopSignals) ::signal(sig, SIG_DFL);  // Ctrl-C ends a child outright
        kit::check(::prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl");
        if (::getppid() != parent) return 1;  // the parent died before prctl took effect
        if (cpu >= 0) pin_to(cpu);
        if (!link) {
            memcpy_a(s, r);
        } else {
            if (s.threads) link->share_one_process();
            auto ep = link->open(role, peer);
            // Settings::peers_beside: its loop runs on a second link, or on this one.
            std::unique_ptr<Endpoint> ep_peers =
                peers_link ? peers_link->open(role, peer) : nullptr;
            Endpoint* peers = !s.peers_beside ? nullptr : ep_peers ? ep_peers.get() : ep.get();
            if (s.threads)
                b = std::thread([&] {
                    try {
                        if (peer_cpu >= 0) pin_to(peer_cpu);
                        auto epb = link->open(Role::b, ::getpid());
                        s.peers_way ? peers_way_b(*epb, size, rb) : pingpong_b(*epb, size, s, rb);
                    } catch (const std::exception& e) {
                        std::snprintf(rb.error, sizeof rb.error, "%s", e.what());
                    }
                });
            if (mode == Mode::pingpong && s.peers_way) {
                if (role == Role::a) peers_way_a(*ep, size, s, r);
                if (role == Role::b) peers_way_b(*ep, size, r);
            } else {
                if (mode == Mode::pingpong && role == Role::a) pingpong_a(*ep, size, s, r, peers);
                if (mode == Mode::pingpong && role == Role::b) pingpong_b(*ep, size, s, r, peers);
            }
            if (mode == Mode::stream && role == Role::a) stream_a(*ep, size, s);
            if (mode == Mode::stream && role == Role::b) stream_b(*ep, size, r);
            if (mode == Mode::open_loop && role == Role::a) open_loop_a(*ep, size, s, r);
            if (mode == Mode::open_loop && role == Role::b) open_loop_b(*ep, size, r);
        }
    } catch (const kit::SysError& e) {
        std::snprintf(r.error, sizeof r.error, "%s", e.message().c_str());
    } catch (const std::exception& e) {
        std::snprintf(r.error, sizeof r.error, "%s", e.what());
    }
    if (b.joinable()) {
        if (!r.error[0]) b.join();  // else side b may wait for ever: _exit below ends it
        if (!r.error[0] && rb.error[0]) std::memcpy(r.error, rb.error, sizeof r.error);
        if (rb.ops) r.cpu_s += rb.cpu_s * double(r.ops) / double(rb.ops);
        kit::write_all(report_fd, std::as_bytes(std::span(&r, 1)));
        ::_exit(r.error[0] ? 1 : 0);  // no destructor of a thread that still runs
    }
    kit::write_all(report_fd, std::as_bytes(std::span(&r, 1)));
    return r.error[0] ? 1 : 0;
}

}  // namespace

Measured measure_floor(const Placement& where, Settings s) {
    s.peers_way = true, s.peers_beside = nullptr;
    Measured line = run_cell(*find_mechanism("cache-line"), 8, where, Mode::pingpong, s);
    Measured ring = run_cell(*find_mechanism("shm-ring"), 8, where, Mode::pingpong, s);
    if (!ring.ok() || !line.ok()) return ring.ok() ? line : ring;  // a failure is reported
    return line.rate.median >= ring.rate.median ? line : ring;
}

std::vector<int> allowed_cpus() {
    cpu_set_t set;
    kit::check(::sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
}

std::vector<Placement> standard_placements() {
    const std::vector<int> cpus = allowed_cpus();
    std::vector<Placement> out{{"same", cpus[0], cpus[0]}};
    if (cpus.size() > 1) out.push_back({"cross", cpus[0], cpus[1]});
    return out;
}

void stop_cells_on_signals() {
    struct sigaction sa {};
    sa.sa_handler = note_stop_signal;  // no SA_RESTART: poll() returns EINTR
    sigemptyset(&sa.sa_mask);
    for (int sig : kStopSignals) kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
}

void raise_if_interrupted() {
    if (const int sig = g_stop_signal) {
        ::signal(sig, SIG_DFL);  // end as the signal would have: the caller sees it in the status
        ::raise(sig);
    }
}

Measured run_cell(const Mechanism& m, std::size_t size, const Placement& where, Mode mode,
                  const Settings& s) {
    if (m.fixed_size) size = m.fixed_size;
    if (s.peers_beside && (mode != Mode::pingpong || s.threads || s.peers_way || !m.make ||
                           s.peers_beside->fixed_size != m.fixed_size))
        throw std::invalid_argument("peers_beside: a ping-pong of two processes, one message size");
    std::unique_ptr<Link> link = m.make ? m.make(size) : nullptr;
    std::unique_ptr<Link> peers_link =
        s.peers_beside && s.peers_beside != &m ? s.peers_beside->make(size) : nullptr;
    kit::Pipe start_a = kit::make_pipe(), start_b = kit::make_pipe();
    kit::Pipe rep_a = kit::make_pipe(), rep_b = kit::make_pipe();
    const pid_t parent = ::getpid();
    // Each child drops the other's pipes, so a report pipe reaches EOF when its child is gone.
    kit::Child a = kit::spawn([&] {
        start_a.write.reset(), start_b = {}, rep_b = {}, rep_a.read.reset();
        return child(link.get(), peers_link.get(), Role::a, size, where.pinned ? where.cpu_a : -1,
                     where.pinned ? where.cpu_b : -1, mode, s, start_a.read.get(),
                     rep_a.write.get(), parent);
    });
    std::optional<kit::Child> b;
    if (link && !s.threads)
        b.emplace(kit::spawn([&] {
            start_b.write.reset(), start_a = {}, rep_a = {}, rep_b.read.reset();
            return child(link.get(), peers_link.get(), Role::b, size,
                         where.pinned ? where.cpu_b : -1, -1, mode, s, start_b.read.get(),
                         rep_b.write.get(), parent);
        }));
    start_a.read.reset(), start_b.read.reset(), rep_a.write.reset(), rep_b.write.reset();
    const pid_t pid_b = b ? b->pid() : 0, pid_a = a.pid();
    kit::write_all(start_a.write.get(), std::as_bytes(std::span(&pid_b, 1)));
    if (b) kit::write_all(start_b.write.get(), std::as_bytes(std::span(&pid_a, 1)));

    const auto deadline =
        Clock::now() + (s.deadline.count()
                            ? std::chrono::milliseconds(s.deadline)
                            : std::chrono::seconds(5) +
                                  4 * (s.peers_beside ? 2 : 1) * (s.warmup + s.reps * s.budget));
    Report got[2];
    bool have[2] = {false, !b};
    std::string error;
    pollfd fds[2] = {{rep_a.read.get(), POLLIN, 0}, {b ? rep_b.read.get() : -1, POLLIN, 0}};
    while (!(have[0] && have[1]) && error.empty()) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (g_stop_signal || left.count() <= 0) {
            error = g_stop_signal ? "interrupted by a signal"
                                  : "stalled: no result before the deadline, killed";
            break;
        }
        int n = ::poll(fds, 2, int(left.count()));
        if (n == -1 && errno == EINTR) continue;
        kit::check(n, "poll");
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !fds[i].revents) continue;
            auto bytes = std::as_writable_bytes(std::span(&got[i], 1));
            if (kit::read_full(fds[i].fd, bytes) != bytes.size()) {
                error = std::string(i ? "b" : "a") + " died without a result";
            } else {
                have[i] = true;
                if (got[i].error[0]) error = got[i].error;
            }
            fds[i].fd = -1;
        }
    }
    // A failed or stalled cell: kill both now (wait with no time left), then reap.
    const auto grace =
        error.empty() ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(0);
    auto sa = a.wait(grace);
    if (b) {
        auto sb = b->wait(grace);
        if (error.empty() && !sb.ok()) error = "b " + sb.describe();
    }
    if (error.empty() && !sa.ok()) error = "a " + sa.describe();

    Measured out;
    out.error = error;
    const Report& r = got[mode == Mode::stream && b ? 1 : 0];
    out.rate = spread(std::vector<double>(r.rate, r.rate + std::min(r.reps, kMaxReps)));
    out.p50_us = r.p50_us, out.p99_us = r.p99_us, out.p999_us = r.p999_us;
    out.count = r.count;
    out.samples = r.samples, out.timed_rate = r.timed_rate;
    if (s.peers_beside && mode == Mode::pingpong)
        for (int i = 0; i < std::min(r.reps, kMaxReps); ++i)
            out.reps.push_back(r.rate[i]), out.peers_reps.push_back(r.peers_rate[i]);
    if (mode == Mode::pingpong)
        for (const Report& side : got)
            if (side.ops) out.cpu_us_per_op += side.cpu_s / double(side.ops) * 1e6;
    if (mode == Mode::open_loop && b) {  // a offered, b received and timed
        const Report &ra = got[0], &rb = got[1];
        out.offered = ra.count;
        out.rate = spread(std::vector<double>(rb.rate, rb.rate + std::min(rb.reps, kMaxReps)));
        out.p50_us = rb.p50_us, out.p99_us = rb.p99_us, out.p999_us = rb.p999_us;
        out.count = rb.count;
        if (ra.ops) out.cpu_us_a = ra.cpu_s / double(ra.ops) * 1e6;
        if (rb.ops) out.cpu_us_b = rb.cpu_s / double(rb.ops) * 1e6;
        out.cpu_us_per_op = out.cpu_us_a + out.cpu_us_b;
    }
    return out;
}

}  // namespace bench
