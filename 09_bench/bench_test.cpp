// bench_test.cpp — ipc_bench is measured, never timed here: these tests prove that every
// transport delivers the exact bytes in order, that the harness notices a broken one, that its
// statistics are right on known input, and that its options and output formats are sound.
#include "bench.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include "harness.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "kit_test/leak.hpp"
#include "stats.hpp"

namespace bench {
namespace {

// Byte i of message n: differs between messages, positions and directions.
std::byte pattern(std::uint64_t n, std::size_t i, int dir) {
    return std::byte((n * 7 + i * 13 + dir * 101) & 0xff);
}

void fill(std::span<std::byte> m, std::uint64_t n, int dir) {
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = pattern(n, i, dir);
}

bool matches(std::span<const std::byte> m, std::uint64_t n, int dir) {
    for (std::size_t i = 0; i < m.size(); ++i)
        if (m[i] != pattern(n, i, dir)) return false;
    return true;
}

Placement first_cpu() {
    const int cpu = allowed_cpus()[0];
    return {"same", cpu, cpu};
}

// Forks the two roles of a Link (each learns the other's pid through a pipe, as in the
// harness) and returns both exit statuses; either child is killed if it overruns.
// Both children are pinned as `where` says.
template <class Fa, class Fb>
std::pair<kit::ExitStatus, kit::ExitStatus> run_pair(Link& link, const Placement& where, Fa role_a,
                                                     Fb role_b) {
    kit::Pipe go_a = kit::make_pipe(), go_b = kit::make_pipe();
    auto start = [&](kit::Pipe& go, Role role, auto body) {
        go.write.reset();
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(role == Role::a ? where.cpu_a : where.cpu_b, &set);
        kit::check(::sched_setaffinity(0, sizeof set, &set), "sched_setaffinity");
        pid_t peer = 0;
        if (kit::read_full(go.read.get(), std::as_writable_bytes(std::span(&peer, 1))) !=
            sizeof peer)
            return 3;
        auto ep = link.open(role, peer);
        return body(*ep) ? 0 : 1;
    };
    kit::Child b = kit::spawn([&] { return start(go_b, Role::b, role_b); });
    kit::Child a = kit::spawn([&] { return start(go_a, Role::a, role_a); });
    const pid_t pa = a.pid(), pb = b.pid();
    kit::write_all(go_a.write.get(), std::as_bytes(std::span(&pb, 1)));
    kit::write_all(go_b.write.get(), std::as_bytes(std::span(&pa, 1)));
    auto sa = a.wait();
    return {sa, b.wait()};
}

// Both directions, one message in flight: a sends message n, b checks every byte and answers
// with message n of the other direction, which a checks.
void expect_ping_pong_intact(const Mechanism& m, std::size_t size, const Placement& where) {
    auto link = m.make(size);
    const int rounds = m.needs_two_cpus ? 20 : size > 10'000 ? 6 : 30;
    auto [sa, sb] = run_pair(
        *link, where,
        [&](Endpoint& ep) {
            std::vector<std::byte> out(size), in(size);
            for (int n = 0; n < rounds; ++n) {
                fill(out, n, 0);
                ep.send(out);
                ep.recv(in);
                if (!matches(in, n, 1)) return false;
            }
            return true;
        },
        [&](Endpoint& ep) {
            std::vector<std::byte> out(size), in(size);
            for (int n = 0; n < rounds; ++n) {
                ep.recv(in);
                if (!matches(in, n, 0)) return false;
                fill(out, n, 1);
                ep.send(out);
            }
            return true;
        });
    EXPECT_TRUE(sa.ok()) << m.name << " " << size << " B " << where.name << ", a " << sa.describe()
                         << " (exit 1: a reply arrived damaged)";
    EXPECT_TRUE(sb.ok()) << m.name << " " << size << " B " << where.name << ", b " << sb.describe()
                         << " (exit 1: a message arrived damaged)";
}

// A burst without waiting (the queue fills; the sender blocks or waits for credits): b takes
// every message intact and in the order sent.
void expect_burst_intact(const Mechanism& m, std::size_t size, const Placement& where) {
    auto link = m.make(size);
    const int burst = size > 10'000 ? 12 : 100;
    auto [sa, sb] = run_pair(
        *link, where,
        [&](Endpoint& ep) {
            std::vector<std::byte> out(size);
            for (int n = 0; n < burst; ++n) fill(out, n, 0), ep.send(out);
            ep.recv(out);  // b's acknowledgement: every message was taken
            return true;
        },
        [&](Endpoint& ep) {
            std::vector<std::byte> in(size);
            for (int n = 0; n < burst; ++n) {
                ep.recv(in);
                if (!matches(in, n, 0)) return false;
            }
            ep.send(in);
            return true;
        });
    EXPECT_TRUE(sa.ok()) << m.name << " " << size << " B " << where.name << ", a " << sa.describe();
    EXPECT_TRUE(sb.ok()) << m.name << " " << size << " B " << where.name << ", b " << sb.describe()
                         << " (exit 1: damaged or out of order)";
}

// Every size the benchmark uses by default, and one that needs many queue messages, datagrams
// or slots per message (200,000 B > msgmax, > a UDP datagram, > a 64 KiB slot).
void expect_delivery(std::string_view name) {
    const Mechanism* m = find_mechanism(name);
    ASSERT_NE(m, nullptr) << name;
    const std::vector<std::size_t> sizes = m->fixed_size
                                               ? std::vector<std::size_t>{m->fixed_size}
                                               : std::vector<std::size_t>{100, 1024, 200'000};
    // Both processes on one CPU and (where the machine has two) on two: the paths that sleep
    // and the paths that spin.
    for (const Placement& where : standard_placements())
        for (std::size_t size : sizes) {
            expect_ping_pong_intact(*m, size, where);
            if (m->streams) expect_burst_intact(*m, size, where);
        }
}

TEST(Delivery, PipeCarriesEveryByteInOrder) { expect_delivery("pipe"); }
TEST(Delivery, PipeWithSignalWakeUpsCarriesEveryByteInOrder) { expect_delivery("pipe-signal"); }
TEST(Delivery, FifoCarriesEveryByteInOrder) { expect_delivery("fifo"); }
TEST(Delivery, SysvMessageQueueCarriesEveryByteInOrder) { expect_delivery("sysv-mq"); }
TEST(Delivery, PosixMessageQueueCarriesEveryByteInOrder) { expect_delivery("posix-mq"); }
TEST(Delivery, UnixStreamSocketCarriesEveryByteInOrder) { expect_delivery("unix-stream"); }
TEST(Delivery, UnixDatagramSocketCarriesEveryByteInOrder) { expect_delivery("unix-dgram"); }
TEST(Delivery, SocketpairCarriesEveryByteInOrder) { expect_delivery("socketpair"); }
TEST(Delivery, TcpLoopbackCarriesEveryByteInOrder) { expect_delivery("tcp"); }
TEST(Delivery, UdpLoopbackWithCreditsLosesNothing) { expect_delivery("udp"); }
TEST(Delivery, ShmWithSemaphoresCarriesEveryByteInOrder) { expect_delivery("shm-sem"); }
TEST(Delivery, ShmRingCarriesEveryByteInOrder) { expect_delivery("shm-ring"); }
TEST(Delivery, MmapFileRingCarriesEveryByteInOrder) { expect_delivery("mmap-file"); }
TEST(Delivery, RtSignalCarriesItsEightBytePayloadInOrder) { expect_delivery("rt-signal"); }
TEST(Delivery, EventfdCarriesItsCounterValueEachRound) { expect_delivery("eventfd"); }
TEST(Delivery, CacheLineCarriesEightBytesEachRound) { expect_delivery("cache-line"); }

TEST(Delivery, EveryMechanismInTheTableHasADeliveryTest) {
    // The list above, checked against the registry, so a new row cannot go untested.
    const std::set<std::string_view> tested = {
        "pipe",       "pipe-signal", "fifo",    "sysv-mq",   "posix-mq", "unix-stream",
        "unix-dgram", "socketpair",  "tcp",     "udp",       "shm-sem",  "shm-ring",
        "mmap-file",  "rt-signal",   "eventfd", "cache-line"};
    for (const auto& m : mechanisms())
        if (m.make) {
            EXPECT_TRUE(tested.count(m.name)) << m.name << " has no Delivery test";
        }
}

// ---- the harness: a cell of every mechanism completes with every message checked ----
const Settings kTiny{std::chrono::milliseconds(3), std::chrono::milliseconds(1), 2,
                     std::chrono::milliseconds(0)};

TEST(Harness, EveryMechanismCompletesBothModesWithEveryMessageChecked) {
    const Placement p = first_cpu();
    for (const auto& m : mechanisms()) {
        if (m.needs_two_cpus || !m.make) continue;  // a pure spin on one CPU; memcpy below
        for (auto mode : {Mode::pingpong, Mode::stream}) {
            if (mode == Mode::stream && !m.streams) continue;
            const Measured r = run_cell(m, 100, p, mode, kTiny);
            EXPECT_TRUE(r.ok()) << m.name << ": " << r.error;
            EXPECT_GT(r.count, 0u) << m.name << " counted nothing";
            EXPECT_GT(r.rate.min, 0) << m.name;
            if (mode == Mode::pingpong) {
                EXPECT_LE(r.p50_us, r.p99_us) << m.name;
                EXPECT_LE(r.p99_us, r.p999_us) << m.name;
            }
        }
    }
}

// Long enough for the ring to fill and drain thousands of times, so both sides sleep and wake
// each other over and over: a lost wake-up stalls the cell and fails it.
TEST(Harness, RingStreamsWithoutALostWakeUpInEveryPlacement) {
    Settings s{std::chrono::milliseconds(40), std::chrono::milliseconds(5), 2,
               std::chrono::milliseconds(1500)};
    for (const Placement& where : standard_placements())
        for (const char* name : {"shm-ring", "mmap-file"})
            for (std::size_t size : {std::size_t(100), std::size_t(1024)}) {
                const Measured r = run_cell(*find_mechanism(name), size, where, Mode::stream, s);
                EXPECT_TRUE(r.ok())
                    << name << " " << size << " B " << where.name << ": " << r.error;
            }
}

TEST(Harness, MemcpyReferenceRunsInOneChildAndReports) {
    const Measured r = run_cell(*find_mechanism("memcpy"), 100, first_cpu(), Mode::stream, kTiny);
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.rate.min > 0, true);
}

// ---- no name outlives the setup, so a killed run leaves nothing in /dev/shm or /tmp ----
// This process's names (its pid is in them) in /dev/shm and the temp directory. POSIX queues
// live in /dev/mqueue, which need not be mounted, so they are not looked for here.
std::vector<std::string> our_names() {
    const std::string mine = std::string(kit::kNamePrefix) + std::to_string(::getpid()) + "-";
    std::vector<std::string> out;
    for (const std::string& dir : {std::string("/dev/shm"), kit::temp_dir()})
        for (const auto& name : kit::leak::named_objects(dir))
            if (name.find(mine) != std::string::npos) out.push_back(name);
    return out;
}

// Compared with a snapshot, so a name left by an earlier process that had our pid does not count.
TEST(Cleanup, NoNameOutlivesTheSetupOfALink) {
    const auto before = our_names();
    for (const auto& m : mechanisms()) {
        if (!m.make || m.name == "fifo") continue;  // FIFOs are met by name after fork: next test
        auto link = m.make(100);
        EXPECT_EQ(kit::leak::new_objects(before, our_names()), std::vector<std::string>{})
            << m.name << " keeps a name while its cell runs";
    }
}

TEST(Cleanup, FifoNamesGoOnceBothEndsAreOpen) {
    const auto before = our_names();
    auto link = find_mechanism("fifo")->make(100);
    EXPECT_EQ(kit::leak::new_objects(before, our_names()).size(), 2u)
        << "the FIFOs exist until the children meet";
    auto [sa, sb] = run_pair(
        *link, first_cpu(), [](Endpoint&) { return true; }, [](Endpoint&) { return true; });
    EXPECT_TRUE(sa.ok()) << sa.describe();
    EXPECT_TRUE(sb.ok()) << sb.describe();
    EXPECT_EQ(kit::leak::new_objects(before, our_names()), std::vector<std::string>{})
        << "the FIFOs' names outlived the meeting";
}

// ---- a broken transport fails loudly instead of posting a fast wrong number ----
enum class Fault { flip_a_byte, drop_a_message, stall };
Fault g_fault;  // set by the test before run_cell; inherited by the children

class FaultyEndpoint final : public Endpoint {
public:
    explicit FaultyEndpoint(std::unique_ptr<Endpoint> inner) : inner_(std::move(inner)) {}
    void send(std::span<const std::byte> msg) override {
        ++n_;
        if (g_fault == Fault::stall) return;                      // nothing ever arrives
        if (g_fault == Fault::drop_a_message && n_ == 3) return;  // every cell sends at least 4
        std::vector<std::byte> copy(msg.begin(), msg.end());
        if (g_fault == Fault::flip_a_byte && n_ == 3) copy.back() ^= std::byte{1};
        inner_->send(copy);
    }
    void recv(std::span<std::byte> msg) override { inner_->recv(msg); }

private:
    std::unique_ptr<Endpoint> inner_;
    int n_ = 0;
};

class FaultyLink final : public Link {
public:
    FaultyLink() : inner_(make_pipe(0)) {}
    std::unique_ptr<Endpoint> open(Role role, pid_t peer) override {
        return std::make_unique<FaultyEndpoint>(inner_->open(role, peer));
    }

private:
    std::unique_ptr<Link> inner_;
};

Measured run_faulty(Fault f, Mode mode, bool touch_payload = true) {
    g_fault = f;
    const Mechanism faulty{
        .name = "faulty", .label = "faulty pipe", .make = [](std::size_t) -> std::unique_ptr<Link> {
            return std::make_unique<FaultyLink>();
        }};
    Settings s = kTiny;
    s.deadline = std::chrono::milliseconds(500);
    s.touch_payload = touch_payload;
    return run_cell(faulty, 100, first_cpu(), mode, s);
}

TEST(BrokenTransport, AFlippedByteIsReportedAsWrongBytes) {
    for (auto mode : {Mode::pingpong, Mode::stream}) {
        const Measured r = run_faulty(Fault::flip_a_byte, mode);
        EXPECT_NE(r.error.find("wrong bytes"), std::string::npos) << "error: '" << r.error << "'";
    }
}

TEST(BrokenTransport, ALostMessageIsReportedBySequenceNumber) {
    const Measured r = run_faulty(Fault::drop_a_message, Mode::stream);
    EXPECT_NE(r.error.find("expected, another arrived"), std::string::npos)
        << "error: '" << r.error << "'";
}

// The method lab's "payload untouched" row checks the sequence word only: a damaged payload
// passes there, which is exactly what a benchmark that never looks at its payload measures.
TEST(BrokenTransport, WithThePayloadUntouchedAFlippedPayloadByteGoesUnnoticed) {
    const Measured r = run_faulty(Fault::flip_a_byte, Mode::pingpong, false);
    EXPECT_TRUE(r.ok()) << "error: '" << r.error << "'";
    EXPECT_GT(r.count, 0u);
}

TEST(Harness, APingPongBetweenTwoThreadsCompletesAndCountsTheCpuOfBothSides) {
    for (const char* name : {"pipe", "unix-stream", "shm-ring", "eventfd"}) {
        Settings s = kTiny;
        s.threads = true;
        const Measured r = run_cell(*find_mechanism(name), 100, first_cpu(), Mode::pingpong, s);
        EXPECT_TRUE(r.ok()) << name << ": " << r.error;
        EXPECT_GT(r.count, 0u) << name;
        EXPECT_GT(r.cpu_us_per_op, 0.0) << name << ": getrusage counted no CPU time";
    }
}

TEST(BrokenTransport, AStalledTransportIsKilledAtItsDeadline) {
    const Measured r = run_faulty(Fault::stall, Mode::pingpong);
    EXPECT_NE(r.error.find("stalled"), std::string::npos) << "error: '" << r.error << "'";
}

// ---- the message check itself ----
TEST(MessageCheck, AStampedMessagePassesAndEveryDamageIsCaught) {
    std::vector<std::byte> sent(100);
    fill(sent, 1, 0);
    stamp(sent, 42);
    auto m = sent;
    EXPECT_NO_THROW(verify(m, 42, sent));
    EXPECT_THROW(verify(m, 43, sent), std::runtime_error);  // another sequence number
    // Every byte after the sequence word, at sizes around the vector widths a compare uses.
    for (std::size_t size : {17, 100, 1024, 1031}) {
        std::vector<std::byte> body(size);
        fill(body, 3, 1);
        stamp(body, 7);
        ASSERT_NO_THROW(verify(body, 7, body)) << size;
        for (std::size_t at = 8; at < size; ++at) {
            auto bad = body;
            bad[at] ^= std::byte{0x80};
            EXPECT_THROW(verify(bad, 7, body), std::runtime_error)
                << "a flipped bit at byte " << at << " of " << size << " went unnoticed";
        }
    }
    auto swapped = m;  // two 8-byte words exchanged: same bytes, wrong order
    std::swap_ranges(swapped.begin() + 16, swapped.begin() + 24, swapped.begin() + 24);
    try {
        verify(swapped, 42, sent);
        ADD_FAILURE() << "two exchanged words went unnoticed";
    } catch (const std::runtime_error& e) {  // and the error says where
        EXPECT_NE(std::string(e.what()).find("byte 16 differs"), std::string::npos) << e.what();
    }
}

// ---- the kernel facts behind the transports' design ----
TEST(KernelFacts, EventfdWritesCoalesceIntoOneSum) {
    kit::Fd efd(kit::check(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd"));
    for (std::uint64_t v : {3, 4}) kit::write_all(efd.get(), std::as_bytes(std::span(&v, 1)));
    std::uint64_t got = 0;
    ASSERT_EQ(::read(efd.get(), &got, sizeof got), ssize_t(sizeof got));
    EXPECT_EQ(got, 7u) << "two writes, one read of their sum: a counter, not a queue";
    EXPECT_EQ(::read(efd.get(), &got, sizeof got), -1);
    EXPECT_EQ(errno, EAGAIN) << "the read reset the counter to zero";
}

TEST(KernelFacts, SigqueueCarriesEightBytesAndAFullQueueIsEagain) {
    EXPECT_EQ(sizeof(sigval), 8u);
    kit::Child c = kit::spawn([] {
        rlimit lim{8, 8};  // at most 8 signals pending for this user, as seen by this process
        kit::check(::setrlimit(RLIMIT_SIGPENDING, &lim), "setrlimit");
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGRTMIN);
        kit::check_err(::pthread_sigmask(SIG_BLOCK, &set, nullptr), "pthread_sigmask");
        for (int n = 0; n < 100; ++n) {
            if (::sigqueue(::getpid(), SIGRTMIN, sigval{n}) == -1)
                return (errno == EAGAIN && n <= 8) ? 0 : 2;
        }
        return 3;  // never refused: the queue would be unbounded
    });
    const auto st = c.wait();
    EXPECT_TRUE(st.ok()) << st.describe()
                         << " (2: another errno or over 8 queued, 3: never refused)";
}

TEST(KernelFacts, UdpDropsWhatTheReceiverHasNoRoomFor) {
    auto udp = [] {
        return kit::Fd(kit::check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
    };
    kit::Fd rx = udp(), tx = udp();
    const int small = 4096;
    kit::check(::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), "setsockopt");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    kit::check(::bind(rx.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), "bind");
    socklen_t len = sizeof a;
    kit::check(::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&a), &len), "getsockname");
    kit::check(::connect(tx.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), "connect");
    std::array<char, 1024> buf{};
    for (int n = 0; n < 200; ++n)
        ASSERT_EQ(::send(tx.get(), buf.data(), buf.size(), 0), ssize_t(buf.size()));
    int received = 0;
    while (::recv(rx.get(), buf.data(), buf.size(), MSG_DONTWAIT) > 0) ++received;
    EXPECT_LT(received, 200)
        << "every send succeeded, yet fewer datagrams arrived: UDP drops silently";
    EXPECT_GT(received, 0);
}

TEST(KernelFacts, AUnixDatagramSenderWaitsForRoomInsteadOfDropping) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), "socketpair");
    kit::Fd a(sv[0]), b(sv[1]);
    std::array<char, 1024> buf{};
    int sent = 0;
    while (::send(a.get(), buf.data(), buf.size(), MSG_DONTWAIT) != -1) ++sent;
    EXPECT_EQ(errno, EAGAIN) << "a full receiver makes the (blocking) sender wait";
    int received = 0;
    while (::recv(b.get(), buf.data(), buf.size(), MSG_DONTWAIT) > 0) ++received;
    EXPECT_EQ(received, sent) << "every datagram that was taken arrived";
}

TEST(KernelFacts, APinnedProcessRunsOnlyOnItsCpu) {
    const Placement p = first_cpu();
    kit::Child c = kit::spawn([&] {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(p.cpu_a, &set);
        kit::check(::sched_setaffinity(0, sizeof set, &set), "sched_setaffinity");
        for (int i = 0; i < 1000; ++i)
            if (::sched_getcpu() != p.cpu_a) return 1;
        return 0;
    });
    EXPECT_TRUE(c.wait().ok());
}

// ---- statistics on known input ----
TEST(Statistics, NearestRankPercentilesOfOneToThousand) {
    std::vector<std::uint32_t> v(1000);
    for (std::uint32_t i = 0; i < 1000; ++i) v[i] = i + 1;
    std::span<const std::uint32_t> s(v);
    EXPECT_EQ(percentile_sorted(s, 50), 500u);
    EXPECT_EQ(percentile_sorted(s, 99), 990u);
    EXPECT_EQ(percentile_sorted(s, 99.9), 999u);
    EXPECT_EQ(percentile_sorted(s, 100), 1000u);
    EXPECT_EQ(percentile_sorted(s, 0.01), 1u);
}

TEST(Statistics, PercentilesOfFewSamplesRoundTheRankUp) {
    std::vector<double> v = {10, 20, 30};  // p50 of three is the 2nd (rank ceil(1.5) = 2)
    EXPECT_EQ(percentile_sorted(std::span<const double>(v), 50), 20);
    EXPECT_EQ(percentile_sorted(std::span<const double>(v), 99.9), 30);
    std::vector<double> one = {7};
    EXPECT_EQ(percentile_sorted(std::span<const double>(one), 1), 7);
}

TEST(Statistics, SpreadGivesMedianMinAndMax) {
    const Spread odd = spread({5, 1, 3});
    EXPECT_EQ(odd.median, 3);
    EXPECT_EQ(odd.min, 1);
    EXPECT_EQ(odd.max, 5);
    const Spread even = spread({4, 1, 3, 2});  // the mean of the middle two
    EXPECT_EQ(even.median, 2.5);
}

}  // namespace
}  // namespace bench
