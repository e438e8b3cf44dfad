// bench_cli_test.cpp — ipc_bench as a reader runs it: options, usage errors, and the CSV, JSON
// and SVG it writes, parsed here to the columns and keys a script would rely on.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "kit/child.hpp"
#include "kit/names.hpp"
#include "kit_test/program.hpp"

namespace {

const std::string kBench = KIT_BIN_DIR "/ipc_bench";

kit::test::Captured bench(std::vector<std::string> args) {
    args.insert(args.begin(), kBench);
    // A bound, not a timing: below ctest's 30 s, so a stalled run fails here with its output.
    return kit::test::run_program(args, {}, std::chrono::seconds(25));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(BenchOptions, HelpPrintsUsageAndExitsZero) {
    auto r = bench({"--help"});
    EXPECT_TRUE(r.status.exited_with(0)) << r.status.describe();
    EXPECT_NE(r.out.find("usage: ipc_bench"), std::string::npos) << r.out;
}

TEST(BenchOptions, BadOptionsPrintUsageOnStderrAndExitTwo) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--bogus"},
                                                                  {"--sizes", "8"},
                                                                  {"--sizes", "2M"},
                                                                  {"--sizes", "1X"},
                                                                  {"--cpus", "both"},
                                                                  {"--reps", "0"},
                                                                  {"--format", "xml"},
                                                                  {"--budget-ms"}}) {
        auto r = bench(args);
        EXPECT_TRUE(r.status.exited_with(2)) << args[0] << ": " << r.status.describe();
        EXPECT_NE(r.err.find("usage: ipc_bench"), std::string::npos) << args[0] << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << args[0];
    }
}

TEST(BenchOptions, AnUnknownMechanismListsTheValidOnes) {
    auto r = bench({"--only", "carrier-pigeon"});
    EXPECT_TRUE(r.status.exited_with(2)) << r.status.describe();
    for (const char* name : {"pipe", "pipe-signal", "fifo", "sysv-mq", "posix-mq", "unix-stream",
                             "unix-dgram", "socketpair", "tcp", "udp", "shm-sem", "shm-ring",
                             "mmap-file", "rt-signal", "eventfd", "cache-line", "memcpy"})
        EXPECT_NE(r.err.find(std::string(" ") + name), std::string::npos)
            << name << " missing from: " << r.err;
}

// Splits one CSV line (fields may be quoted, with "" for a quote inside).
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"')
            out.back() += '"', ++i;
        else if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            out.emplace_back();
        else
            out.back() += c;
    }
    return out;
}

TEST(BenchOutput, CsvHasOneLinePerCellWithTheDocumentedColumns) {
    auto r = bench({"--quick", "--cpus", "same", "--only", "pipe,eventfd", "--format", "csv"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    std::istringstream in(r.out);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line,
              "placement,cpu_a,cpu_b,mechanism,bytes,mode,rate_median,rate_min,rate_max,mb_per_s,"
              "p50_us,p99_us,p999_us,count,status,kernel,cpu_model,cores,virtualised,date");
    std::multiset<std::string> cells;
    while (std::getline(in, line)) {
        auto f = csv_fields(line);
        ASSERT_EQ(f.size(), 20u) << line;
        EXPECT_EQ(f[14], "ok") << line;
        cells.insert(f[3] + " " + f[4] + " " + f[5]);
    }
    // pipe: 2 sizes x 2 modes; eventfd: one 8-byte ping-pong (a counter does not stream).
    EXPECT_EQ(cells, (std::multiset<std::string>{"pipe 100 pingpong", "pipe 100 stream",
                                                 "pipe 1024 pingpong", "pipe 1024 stream",
                                                 "eventfd 8 pingpong"}));
}

// A small JSON reader: enough to prove the output parses and to collect the keys of objects.
struct Json {
    std::string_view s;
    std::size_t i = 0;
    std::set<std::string> keys;
    int cells = 0;
    void ws() {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    }
    bool eat(char c) {
        ws();
        if (i < s.size() && s[i] == c) return ++i, true;
        return false;
    }
    bool string(std::string* out = nullptr) {
        if (!eat('"')) return false;
        std::string v;
        for (; i < s.size() && s[i] != '"'; ++i) v += s[i] == '\\' ? s[++i] : s[i];
        if (out) *out = v;
        return eat('"');
    }
    bool value() {
        ws();
        if (i >= s.size()) return false;
        if (s[i] == '"') return string();
        if (s[i] == '{') {
            ++i;
            if (eat('}')) return true;
            do {
                std::string k;
                if (!string(&k) || !eat(':') || !value()) return false;
                keys.insert(k);
                cells += k == "status";
            } while (eat(','));
            return eat('}');
        }
        if (s[i] == '[') {
            ++i;
            if (eat(']')) return true;
            do
                if (!value()) return false;
            while (eat(','));
            return eat(']');
        }
        const std::size_t start = i;  // a number
        while (i < s.size() &&
               (std::isdigit(static_cast<unsigned char>(s[i])) || std::strchr("+-.eE", s[i])))
            ++i;
        return i > start;
    }
};

TEST(BenchOutput, JsonParsesWithMachineSettingsAndCells) {
    auto r = bench({"--quick", "--cpus", "same", "--only", "pipe", "--format", "json"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    Json j;
    j.s = r.out;
    ASSERT_TRUE(j.value()) << "JSON stops parsing at byte " << j.i << ":\n" << r.out;
    j.ws();
    EXPECT_EQ(j.i, r.out.size()) << "text after the JSON value";
    for (const char* k : {"machine", "kernel", "cpu_model", "cores", "virtualised", "date",
                          "settings", "cells", "placement", "mechanism", "bytes", "mode",
                          "rate_median", "p50_us", "p99_us", "p999_us", "status"})
        EXPECT_TRUE(j.keys.count(k)) << "no key " << k;
    EXPECT_EQ(j.cells, 4);
}

// Every tag closes in order, no stray '<' or '&' in text; counts the <rect>s into *bars.
void expect_well_formed_svg(const std::string& svg, int* bars) {
    ASSERT_EQ(svg.rfind("<?xml", 0), 0u) << svg.substr(0, 80);
    // Every tag closes in order; no stray '<' or '&' in text.
    std::vector<std::string> open;
    for (std::size_t i = svg.find("?>") + 2; i < svg.size();) {
        const std::size_t lt = svg.find('<', i);
        if (lt == std::string::npos) break;
        const std::string text = svg.substr(i, lt - i);
        for (std::size_t a = text.find('&'); a != std::string::npos; a = text.find('&', a + 1))
            EXPECT_TRUE(text.compare(a, 4, "&lt;") == 0 || text.compare(a, 4, "&gt;") == 0 ||
                        text.compare(a, 5, "&amp;") == 0 || text.compare(a, 6, "&apos;") == 0)
                << "bare & in " << text;
        const std::size_t gt = svg.find('>', lt);
        ASSERT_NE(gt, std::string::npos);
        std::string tag = svg.substr(lt + 1, gt - lt - 1);
        ASSERT_EQ(tag.find('<'), std::string::npos) << "'<' inside a tag: " << tag;
        const std::string name =
            tag.substr(tag[0] == '/', tag.find_first_of(" /", 1) - (tag[0] == '/'));
        if (tag[0] == '/') {
            ASSERT_FALSE(open.empty()) << "</" << name << "> closes nothing";
            EXPECT_EQ(open.back(), name);
            open.pop_back();
        } else if (tag.back() != '/') {
            open.push_back(name);
        }
        *bars += name == "rect" && tag[0] != '/';
        i = gt + 1;
    }
    EXPECT_TRUE(open.empty()) << "unclosed <" << (open.empty() ? "" : open.back()) << ">";
}

TEST(BenchOutput, SvgChartIsWellFormedXml) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("bench.svg"));
    auto r = bench({"--quick", "--cpus", "same", "--only", "pipe,shm-ring", "--svg", guard.name()});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    const std::string svg = read_file(guard.name());
    int bars = 0;
    ASSERT_NO_FATAL_FAILURE(expect_well_formed_svg(svg, &bars));
    EXPECT_GE(bars, 3);  // background, legend, and a bar per measured mechanism
    // Both default sizes, both panels (rate; p50 and p99 latency), each with its axis title.
    for (const char* text : {">100 B<", ">1 KiB<", "round trips per second (more is better)",
                             "round-trip latency, p50 and p99 (less is better)"})
        EXPECT_NE(svg.find(text), std::string::npos) << "no " << text << " in the chart";
}

TEST(BenchOutput, TheLabChartIsWellFormedWithABarPerRow) {
    auto guard = kit::unlink_guard(kit::unique_temp_path("lab.svg"));
    auto r = bench({"--lab", "--quick", "--svg", guard.name()});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    const std::string svg = read_file(guard.name());
    int bars = 0;
    ASSERT_NO_FATAL_FAILURE(expect_well_formed_svg(svg, &bars));
    EXPECT_GE(bars, 1 + 4 * 3);  // the background and at least three rows per mechanism
    for (const char* text : {"pipe: same CPU<", "shm ring, spin then futex: iceoryx2&apos;s way<",
                             "eventfd (8 B, wake-up): peers&apos; loop<", "less is better"})
        EXPECT_NE(svg.find(text), std::string::npos) << "no " << text << " in the chart";
}

}  // namespace

// Into a pipe (a CI log), stdout stays silent until the tables: stderr tells each finished cell.
TEST(BenchProgress, WithStdoutAPipeEachFinishedCellIsOneLineOnStderr) {
    // pipe: 2 sizes x (ping-pong + stream); eventfd: one fixed-size ping-pong. Each ping-pong runs
    // its peers' way beside it, in the same cell. 5 cells.
    auto r = bench({"--quick", "--cpus", "same", "--only", "pipe,eventfd"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    std::istringstream err(r.err);
    std::vector<std::string> cells;
    for (std::string line; std::getline(err, line);)
        if (line.rfind("ipc_bench: cell ", 0) == 0) cells.push_back(line);
    ASSERT_EQ(cells.size(), 5u) << r.err;
    const char* first[] = {
        "ipc_bench: cell 1/5 same  pipe  100 B  ping-pong beside its peers' way: ok",
        "ipc_bench: cell 2/5 same  pipe  100 B  stream: ok",
        "ipc_bench: cell 3/5 same  pipe  1 KiB  ping-pong beside its peers' way: ok",
        "ipc_bench: cell 4/5 same  pipe  1 KiB  stream: ok"};
    for (int i = 0; i < 4; ++i) EXPECT_EQ(cells[i].rfind(first[i], 0), 0u) << cells[i];
    EXPECT_EQ(cells.back().rfind(
                  "ipc_bench: cell 5/5 same  eventfd  8 B  ping-pong beside its peers' way: ok", 0),
              0u)
        << cells.back();
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << "a redrawn progress line went into a log";
}

// The method lab: every method row for each of its four mechanisms, each explained.
TEST(BenchLab, EveryMethodRowAppearsForEachMechanismWithItsExplanation) {
    auto r = bench({"--lab", "--quick"});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.out << r.err;
    const bool two = r.out.find("cross-CPU rows are not measured") == std::string::npos;
    std::vector<std::string> rows;
    for (const char* mech : {"pipe ", "Unix stream socket ", "shm ring, spin then futex ",
                             "eventfd (8 B, wake-up) "}) {
        std::vector<std::string> methods = {"same CPU", "unpinned"};
        if (two)
            methods.insert(methods.end(), {"processes, cross CPU", "half round trip",
                                           "each trip timed", "threads, cross CPU", "peers' loop"});
        if (two && std::string(mech) != "eventfd (8 B, wake-up) ")
            methods.push_back("payload untouched");
        if (two && std::string(mech) == "shm ring, spin then futex ")
            methods.insert(methods.end(), {"spin only", "block only", "iceoryx2's way"});
        else if (two)
            methods.insert(methods.end(), {"spin on EAGAIN", "100 tries, then poll"});
        for (const auto& how : methods) {
            std::istringstream in(r.out);
            bool found = false;
            for (std::string line; std::getline(in, line);)
                found = found || (line.rfind(mech, 0) == 0 &&
                                  line.find(" " + how + " ") != std::string::npos);
            EXPECT_TRUE(found) << "no row '" << mech << how << "' in:\n" << r.out;
        }
    }
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("CPU us/trip: user + system time of both sides (getrusage)"),
              std::string::npos);
}

// The floor is measured again right before every ping-pong cell it bounds, not once.
TEST(BenchOutput, TheFloorIsMeasuredBeforeEveryPingPongCellItBounds) {
    if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "the cache-line floor needs two CPUs";
    auto r = bench(
        {"--quick", "--cpus", "cross", "--only", "pipe,eventfd,cache-line", "--format", "json"});
    if (r.err.find("--cpus cross needs two CPUs") != std::string::npos)
        GTEST_SKIP() << "this process may use one CPU";
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << r.err;
    // pipe: 2 ping-pong cells, eventfd: 1; each gets a floor run right before it. The cache-line
    // row's own cell is measured the kit's way (checked, timed), so it is not one of them.
    EXPECT_NE(r.out.find("\"floors\": [\n    {\"placement\": \"cross\", \"runs\": 3, "),
              std::string::npos)
        << r.out;
    std::size_t floors = 0;
    for (std::size_t at = r.err.find("  floor: ok"); at != std::string::npos;
         at = r.err.find("  floor: ok", at + 1))
        ++floors;
    EXPECT_EQ(floors, 3u) << r.err;
}
