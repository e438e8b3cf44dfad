// lesson_check — a lesson's text and its proofs cannot drift from the code.
//
//   lesson_check code CHAPTER_DIR
//       every ```cpp block of CHAPTER_DIR/README.md is an excerpt of one of the
//       chapter's programs or headers (never a test file); "// ..." alone on a
//       line elides lines, and may not skip a close, a removal or an error check
//   lesson_check output CHAPTER_DIR BUILD_DIR
//       every ```sh block that starts with "$ command" is run in BUILD_DIR (on a
//       pseudo-terminal, as a reader would see it, 30 s at most a command) and
//       its output compared with the block; <pid>, <n>, <time>, ... stand for
//       what differs per run; a block marked <!-- unchecked: REASON --> is
//       counted and listed, not run
//   lesson_check proofs SOURCE_ROOT BUILD_DIR SKIP_LOG FILE.md...
//       every cited test exists; every question has a proof line that names a
//       test or says "no test: conceptual (why)"; every item of a lesson's
//       "Kernel facts" and "Myths" cites a test; each errno or signal an item
//       or answer names appears in a test it cites; cited tests that are
//       disabled or skipped on this machine are reported (a warning)
//
// CONTRIBUTING.md states the rules for writers; tools_test.cpp proves that
// each way of faking them fails.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/proc.hpp"
#include "text_checks.hpp"

namespace fs = std::filesystem;
namespace text = kit::text;

namespace {

std::string read_or_throw(const fs::path& p) {
    auto t = kit::read_text_file(p.string());
    if (!t) throw kit::SysError(ENOENT, "open " + p.string());
    return *t;
}

// ------------------------------------------------------------------ code

int check_code(const fs::path& dir) {
    const auto readme = dir / "README.md";
    const auto md = read_or_throw(readme);
    std::vector<std::pair<std::string, std::vector<std::string>>> sources;
    for (const auto& e : fs::directory_iterator(dir))
        if (text::excerpt_source_allowed(e.path().filename().string()))
            sources.emplace_back(e.path().filename().string(),
                                 text::lines(read_or_throw(e.path())));
    auto blocks = text::fenced_blocks(md, "cpp");
    int bad = 0;
    for (const auto& b : blocks) {
        std::string problem;
        bool found = false;
        for (const auto& [name, src] : sources) {
            auto r = text::excerpt_in_source(b, src);
            if (r.found) {
                found = true;
                break;
            }
            if (problem.empty() || r.problem.find("elision") != std::string::npos)
                problem = r.problem;
        }
        if (found) continue;
        ++bad;
        const std::string first = b.body.empty() ? "(empty)" : b.body.front();
        std::cout << readme.string() << ":" << b.line << ": excerpt \"" << first
                  << "\": " << problem << "\n";
    }
    std::cout << "code check: " << blocks.size() << " cpp excerpt(s), " << bad << " problem(s)\n";
    return bad == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- output

struct RunResult {
    std::string output;
    bool timed_out = false;
    int status = 0;
};

// Runs `command` with /bin/sh in `cwd`, on a new pseudo-terminal (so stdout is
// line-buffered and interleaves with stderr as on a reader's screen).
RunResult run_on_terminal(const std::string& command, const fs::path& cwd,
                          std::chrono::seconds limit) {
    kit::Fd master(kit::check(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), "posix_openpt"));
    kit::check(::grantpt(master.get()), "grantpt");
    kit::check(::unlockpt(master.get()), "unlockpt");
    const std::string slave_name =
        kit::check(::ptsname(master.get()), static_cast<char*>(nullptr), "ptsname");
    std::fflush(nullptr);
    const pid_t pid = kit::check(::fork(), "fork");
    if (pid == 0) {
        ::setsid();
        int slave = ::open(slave_name.c_str(), O_RDWR);
        if (slave == -1) ::_exit(126);
        (void)::ioctl(slave, TIOCSCTTY, 0);
        winsize ws{40, 120, 0, 0};
        (void)::ioctl(slave, TIOCSWINSZ, &ws);
        ::dup2(slave, 0);
        ::dup2(slave, 1);
        ::dup2(slave, 2);
        if (slave > 2) ::close(slave);
        if (::chdir(cwd.c_str()) == -1) ::_exit(126);
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    RunResult r;
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            r.timed_out = true;
            break;
        }
        pollfd p{master.get(), POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n == -1 && errno == EINTR) continue;
        kit::check(n, "poll");
        if (n == 0) continue;
        char buf[4096];
        ssize_t got = ::read(master.get(), buf, sizeof buf);
        if (got == -1 && errno == EINTR) continue;
        if (got <= 0) break;  // EIO: every holder of the terminal has closed it
        r.output.append(buf, static_cast<size_t>(got));
    }
    ::kill(-pid, SIGKILL);  // whatever the command left running in its session
    int ws = 0;
    while (::waitpid(pid, &ws, 0) == -1 && errno == EINTR) {
    }
    r.status = ws;
    return r;
}

int check_output(const fs::path& dir, const fs::path& build) {
    const auto readme = dir / "README.md";
    const auto md = read_or_throw(readme);
    int checked = 0, commands = 0, bad = 0;
    std::vector<std::string> unchecked;
    // A "What it prints" column would be text no run checks: output belongs in checked blocks.
    {
        auto ls = text::lines(md);
        for (size_t i = 0; i + 1 < ls.size(); ++i) {
            std::string lower = ls[i];
            for (auto& c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (lower.rfind("|", 0) == 0 && lower.find("prints") != std::string::npos &&
                ls[i + 1].rfind("|", 0) == 0 &&
                ls[i + 1].find_first_not_of("|-: ") == std::string::npos) {
                ++bad;
                std::cout << readme.string() << ":" << i + 1
                          << ": a table column of what a program prints is not checked by any run: "
                             "show the output in a checked \"$ ./program\" block instead\n";
            }
        }
    }
    for (const auto& b : text::fenced_blocks(md, "sh")) {
        if (!text::is_output_block(b)) continue;
        if (auto why = text::unchecked_reason(b)) {
            unchecked.push_back(readme.string() + ":" + std::to_string(b.line) + ": " + *why);
            continue;
        }
        if (!b.note.empty() && b.note.find("unchecked") != std::string::npos) {
            ++bad;
            std::cout << readme.string() << ":" << b.line
                      << ": an unchecked marker must read <!-- unchecked: REASON -->\n";
            continue;
        }
        ++checked;
        for (const auto& c : text::commands(b)) {
            ++commands;
            auto r = run_on_terminal(c.command, build, std::chrono::seconds(30));
            auto actual = text::terminal_lines(r.output);
            std::string why;
            if (r.timed_out) {
                why = "did not finish within 30 s";
            } else if (text::output_matches(c.expected, actual, why)) {
                continue;
            }
            ++bad;
            std::cout << readme.string() << ":" << c.line << ": $ " << c.command << ": " << why
                      << "\n";
            std::cout << "  it printed:\n";
            for (const auto& l : actual) std::cout << "    " << l << "\n";
        }
    }
    std::cout << "output check: " << checked << " block(s) checked (" << commands
              << " command(s) run), " << unchecked.size() << " unchecked, " << bad
              << " problem(s)\n";
    for (const auto& u : unchecked) std::cout << "  unchecked: " << u << "\n";
    return bad == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- proofs

struct TestInfo {
    std::string binary;  // basename of the executable, or "ctest" for a script test
    std::string filter;  // Suite.Case for a GoogleTest case
    bool disabled = false;
};

// Every test CTest knows in a build tree, read from the files CTest itself
// reads (so no ctest run is needed, and none of its logs is touched).
std::map<std::string, TestInfo> known_tests(const fs::path& build) {
    static const std::regex add(
        R"re(add_test\(\s*(?:\[(=*)\[([^\]]+)\]\1\]|([^\s()"]+))\s+(?:"([^"]*)"|(\S+)))re");
    static const std::regex filter(R"(--gtest_filter=([^\]\s"]+))");
    static const std::regex props(
        R"re(set_tests_properties\(\s*(?:\[(=*)\[([^\]]+)\]\1\]|([^\s()"]+))\s+PROPERTIES\s+([^\n]*))re");
    std::map<std::string, TestInfo> tests;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(build, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (name != "CTestTestfile.cmake" && !name.ends_with("_tests.cmake")) continue;
        const auto body = kit::read_text_file(it->path().string()).value_or("");
        std::istringstream in(body);
        for (std::string line; std::getline(in, line);) {
            std::smatch m;
            if (std::regex_search(line, m, add)) {
                const std::string test = m[2].matched ? m[2].str() : m[3].str();
                std::string cmd = m[4].matched ? m[4].str() : m[5].str();
                TestInfo info;
                info.binary = fs::path(cmd).filename().string();
                if (std::smatch f; std::regex_search(line, f, filter)) info.filter = f[1].str();
                if (info.filter.empty()) info.binary = "ctest";
                tests[test] = info;
            } else if (std::regex_search(line, m, props)) {
                const std::string test = m[2].matched ? m[2].str() : m[3].str();
                if (m[4].str().find("DISABLED TRUE") != std::string::npos ||
                    m[4].str().find("DISABLED \"TRUE\"") != std::string::npos)
                    tests[test].disabled = true;
            }
        }
    }
    return tests;
}

// Tests that skipped in the last run: ctest name → reason.
std::map<std::string, std::string> skipped_tests(const std::string& log,
                                                 const std::map<std::string, TestInfo>& tests) {
    std::map<std::pair<std::string, std::string>, std::string> by_case;
    std::map<std::string, std::string> out;
    std::istringstream in(kit::read_text_file(log).value_or(""));
    for (std::string line; std::getline(in, line);) {
        auto t1 = line.find('\t');
        auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos) continue;
        const auto bin = line.substr(0, t1), name = line.substr(t1 + 1, t2 - t1 - 1),
                   why = line.substr(t2 + 1);
        if (bin == "ctest")
            out[name] = why;
        else
            by_case[{bin, name}] = why;
    }
    for (const auto& [name, info] : tests)
        if (auto it = by_case.find({info.binary, info.filter}); it != by_case.end())
            out[name] = it->second;
    return out;
}

// The error and signal names this system knows.
std::set<std::string> known_constants() {
    std::set<std::string> out;
    for (int e = 1; e < 256; ++e)
        if (const char* n = ::strerrorname_np(e)) out.insert(n);
    for (int s = 1; s < 32; ++s)
        if (const char* n = ::sigabbrev_np(s)) out.insert(std::string("SIG") + n);
    out.insert({"SIGRTMIN", "SIGRTMAX", "EWOULDBLOCK"});
    return out;
}

class Bodies {
public:
    explicit Bodies(fs::path root) : root_(std::move(root)) {}

    // The source text that a test runs: a case's body, or a smoke test's
    // program. Empty for tests without one (checkers, fixtures).
    std::string of(const std::string& test) {
        static const std::regex chapter_test(R"(^chapter([0-9]{2})\.(.*)$)");
        std::smatch m;
        if (!std::regex_match(test, m, chapter_test)) return {};
        const auto dir = chapter_dir(m[1].str());
        if (dir.empty()) return {};
        std::string rest = m[2].str();
        if (rest.rfind("run.", 0) == 0)
            return kit::read_text_file((dir / (rest.substr(4) + ".cpp")).string()).value_or("");
        // "Instance/Suite.Case/3" → "Suite.Case"
        if (auto slash = rest.find('/'); slash != std::string::npos && slash < rest.find('.'))
            rest = rest.substr(slash + 1);
        if (auto slash = rest.rfind('/'); slash != std::string::npos) rest = rest.substr(0, slash);
        auto& bodies = load(dir);
        auto it = bodies.find(rest);
        return it == bodies.end() ? std::string() : it->second;
    }

private:
    fs::path chapter_dir(const std::string& nn) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(root_, ec))
            if (e.is_directory() && e.path().filename().string().rfind(nn + "_", 0) == 0)
                return e.path();
        return {};
    }
    std::map<std::string, std::string>& load(const fs::path& dir) {
        auto [it, fresh] = cache_.try_emplace(dir.string());
        if (!fresh) return it->second;
        for (const auto& e : fs::directory_iterator(dir)) {
            const auto name = e.path().filename().string();
            if (name.find("_test") == std::string::npos || !name.ends_with(".cpp")) continue;
            for (auto& [k, v] :
                 text::test_bodies(kit::read_text_file(e.path().string()).value_or("")))
                it->second[k] = v;
        }
        return it->second;
    }
    fs::path root_;
    std::map<std::string, std::map<std::string, std::string>> cache_;
};

int check_proofs(const fs::path& root, const fs::path& build, const std::string& skip_log,
                 std::span<const std::string_view> files) {
    const auto tests = known_tests(build);
    const auto skipped = skipped_tests(skip_log, tests);
    const auto constants = known_constants();
    Bodies bodies(root);
    int problems = 0, cited = 0;
    std::set<std::string> unproved_here;

    for (const auto& file : files) {
        const std::string path(file);
        const auto md = read_or_throw(path);
        auto problem = [&](int line, const std::string& what) {
            ++problems;
            std::cout << path << ":" << line << ": " << what << "\n";
        };
        // 1. Every citation is a test.
        auto ls = text::lines(md);
        for (size_t i = 0; i < ls.size(); ++i)
            for (const auto& name : text::cited_tests(ls[i])) {
                ++cited;
                auto it = tests.find(name);
                if (it == tests.end()) {
                    problem(static_cast<int>(i + 1), "cites " + name + ", which is not a test");
                    continue;
                }
                if (it->second.disabled) unproved_here.insert(name + " (disabled)");
                if (auto s = skipped.find(name); s != skipped.end())
                    unproved_here.insert(name + " (skipped here: " + s->second + ")");
            }
        // 2. Claims carry their proofs, and a proof is about what the claim names.
        auto relevant = [&](const text::Claim& c) {
            const auto names = text::cited_tests(c.text);
            std::string proof_text;
            for (const auto& n : names) proof_text += bodies.of(n);
            for (const auto& k : text::named_constants(c.text, constants))
                if (proof_text.find(k) == std::string::npos)
                    problem(c.line, "names " + k + ", but no test it cites mentions " + k + ": \"" +
                                        c.heading.substr(0, 70) + "\"");
        };
        const auto base = fs::path(path).filename().string();
        const auto parent = fs::path(path).parent_path().filename().string();
        if (parent == "questions" && base != "README.md") {
            for (const auto& bad : text::malformed_questions(md)) problem(0, bad);
            for (const auto& q : text::question_claims(md)) {
                if (q.proof.empty()) continue;  // reported as malformed above
                if (text::cited_tests(q.proof).empty() && !text::conceptual_proof(q.proof))
                    problem(
                        q.line,
                        "its **Proof.** names no test and is not \"no test: conceptual (why)\": " +
                            q.heading);
                relevant(q);
            }
        } else if (std::regex_search(parent, std::regex("^[0-9]{2}_")) && base == "README.md") {
            for (const auto& item : text::section_items(md, {"Kernel facts", "Myths"})) {
                if (text::cited_tests(item.text).empty())
                    problem(item.line, "a kernel fact or myth that cites no test: \"" +
                                           item.heading.substr(0, 80) + "\"");
                relevant(item);
            }
        }
    }
    std::cout << "proof check: " << cited << " citation(s) in " << files.size() << " file(s), "
              << tests.size() << " test(s) known, " << problems << " problem(s), "
              << unproved_here.size() << " cited test(s) not proved on this machine\n";
    for (const auto& u : unproved_here) std::cout << "  warning: not proved here: " << u << "\n";
    return problems == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(
        argc, argv,
        "code CHAPTER_DIR | output CHAPTER_DIR BUILD_DIR | proofs SOURCE_ROOT BUILD_DIR SKIP_LOG "
        "FILE.md...",
        [](auto args) {
            if (args.size() == 2 && args[0] == "code") return check_code(fs::path(args[1]));
            if (args.size() == 3 && args[0] == "output")
                return check_output(fs::path(args[1]), fs::path(args[2]));
            if (args.size() >= 4 && args[0] == "proofs")
                return check_proofs(fs::path(args[1]), fs::path(args[2]), std::string(args[3]),
                                    args.subspan(4));
            if (!args.empty() && args[0] != "code" && args[0] != "output" && args[0] != "proofs")
                throw kit::unexpected(args[0]);
            throw kit::UsageError{};
        });
}
