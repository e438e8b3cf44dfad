// text_checks.hpp — the logic behind lesson_check, kept apart from its main()
// so that every rule can be unit-tested (tools_test.cpp). The rules are the
// ones CONTRIBUTING.md states for lessons and answers.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kit::text {

[[nodiscard]] inline std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

[[nodiscard]] inline std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        auto nl = text.find('\n', start);
        if (nl == std::string_view::npos) nl = text.size();
        out.push_back(trim(text.substr(start, nl - start)));
        start = nl + 1;
    }
    return out;
}

// A fenced block of a given language: its first line number, its lines
// (trimmed), and the HTML comment that stands right before its fence, if any
// ("<!-- unchecked: needs a second terminal -->").
struct Block {
    int line = 0;
    std::vector<std::string> body;
    std::string note;
};

[[nodiscard]] inline std::vector<Block> fenced_blocks(std::string_view markdown,
                                                      std::string_view lang) {
    std::vector<Block> blocks;
    auto ls = lines(markdown);
    for (size_t i = 0; i < ls.size(); ++i) {
        if (ls[i].rfind("```", 0) != 0) continue;
        const bool wanted = ls[i] == "```" + std::string(lang);
        Block b;
        b.line = static_cast<int>(i + 1);
        if (i > 0 && ls[i - 1].rfind("<!--", 0) == 0) b.note = ls[i - 1];
        for (++i; i < ls.size() && ls[i] != "```"; ++i) b.body.push_back(ls[i]);
        if (wanted) blocks.push_back(std::move(b));
    }
    return blocks;
}

// ---------------------------------------------------------------- excerpts

// The marker of an elision in an excerpt: a line of its own.
inline constexpr std::string_view kElision = "// ...";

// What an elision may not skip: a close, a removal, or an error check. A
// reader who sees an excerpt must not believe a checked call is not there.
inline const std::vector<std::string_view>& unskippable() {
    static const std::vector<std::string_view> v = {"close(",  "check(",   "check_err(",
                                                    "errno",   "== -1",    "unlink(",
                                                    "munmap(", "IPC_RMID", "waitpid("};
    return v;
}

// Where an excerpt was found, or why it was not.
struct ExcerptResult {
    bool found = false;
    std::string problem;  // empty when found
};

namespace detail {
inline bool find_lines(const std::vector<std::string>& hay, const std::vector<std::string>& needle,
                       size_t from, size_t& at) {
    if (needle.empty() || from > hay.size()) return false;
    auto it =
        std::search(hay.begin() + static_cast<long>(from), hay.end(), needle.begin(), needle.end());
    if (it == hay.end()) return false;
    at = static_cast<size_t>(it - hay.begin());
    return true;
}
}  // namespace detail

// The parts of an excerpt between elision markers, blank edges dropped; an
// empty optional when the markers are misplaced (first, last, doubled, or a
// block of markers only).
[[nodiscard]] inline std::optional<std::vector<std::vector<std::string>>> excerpt_parts(
    const Block& block) {
    std::vector<std::vector<std::string>> parts(1);
    for (const auto& l : block.body) {
        if (l == kElision)
            parts.emplace_back();
        else
            parts.back().push_back(l);
    }
    for (auto& p : parts) {  // blank lines at a part's edges are layout, not code
        while (!p.empty() && p.front().empty()) p.erase(p.begin());
        while (!p.empty() && p.back().empty()) p.pop_back();
    }
    for (const auto& p : parts)
        if (p.empty()) return std::nullopt;
    return parts;
}

// An excerpt appears in a source when its parts occur there verbatim, in
// order (ignoring leading/trailing whitespace), and the lines each elision
// skips hold nothing unskippable. Every start of the first part is tried.
[[nodiscard]] inline ExcerptResult excerpt_in_source(const Block& block,
                                                     const std::vector<std::string>& src) {
    auto parts = excerpt_parts(block);
    if (!parts) return {false, "an elision marker must stand between two pieces of code"};
    std::string skipped_problem;
    size_t start = 0, at = 0;
    while (detail::find_lines(src, parts->front(), start, at)) {
        size_t pos = at + parts->front().size();
        bool ok = true;
        for (size_t k = 1; k < parts->size() && ok; ++k) {
            size_t next = 0;
            if (!detail::find_lines(src, (*parts)[k], pos, next)) {
                ok = false;
                break;
            }
            for (size_t i = pos; i < next && ok; ++i)
                for (auto bad : unskippable())
                    if (src[i].find(bad) != std::string::npos) {
                        skipped_problem = "the elision skips \"" + src[i] +
                                          "\" (a close, removal or error check)";
                        ok = false;
                        break;
                    }
            pos = next + (*parts)[k].size();
        }
        if (ok) return {true, {}};
        start = at + 1;
    }
    return {false, skipped_problem.empty() ? "not found in the chapter's programs or headers"
                                           : skipped_problem};
}

// Files an excerpt may come from: programs and chapter headers, not tests.
[[nodiscard]] inline bool excerpt_source_allowed(std::string_view filename) {
    const bool code =
        filename.ends_with(".cpp") || filename.ends_with(".hpp") || filename.ends_with(".h");
    return code && filename.find("_test") == std::string_view::npos;
}

// ---------------------------------------------------------- output blocks

// A command of an output block and the lines the lesson says it prints.
struct Command {
    int line = 0;
    std::string command;
    std::vector<std::string> expected;
};

// An output block is a sh block whose first non-blank line is "$ command".
[[nodiscard]] inline bool is_output_block(const Block& b) {
    for (const auto& l : b.body)
        if (!l.empty()) return l.rfind("$ ", 0) == 0;
    return false;
}

// "<!-- unchecked: REASON -->" before the fence: the reason, else nothing.
[[nodiscard]] inline std::optional<std::string> unchecked_reason(const Block& b) {
    static const std::regex re(R"(^<!--\s*unchecked:\s*(.*\S)\s*-->$)");
    std::smatch m;
    if (std::regex_match(b.note, m, re)) return m[1].str();
    return std::nullopt;
}

[[nodiscard]] inline std::vector<Command> commands(const Block& b) {
    std::vector<Command> out;
    for (size_t i = 0; i < b.body.size(); ++i) {
        const auto& l = b.body[i];
        if (l.rfind("$ ", 0) == 0) {
            out.push_back({b.line + 1 + static_cast<int>(i), l.substr(2), {}});
        } else if (!out.empty()) {
            out.back().expected.push_back(l);
        }
    }
    for (auto& c : out)
        while (!c.expected.empty() && c.expected.back().empty()) c.expected.pop_back();
    return out;
}

// The placeholders a lesson may write for what differs from run to run.
// A line that is exactly "<...>" stands for any number of lines (also none).
inline const std::map<std::string, std::string>& placeholders() {
    static const std::map<std::string, std::string> m = {
        {"<pid>", "[0-9]+"},
        {"<id>", "[0-9]+"},
        {"<port>", "[0-9]+"},
        {"<n>", "-?[0-9][0-9,]*"},
        {"<x>", "-?[0-9]+([.][0-9]+)?"},
        {"<hex>", "(0x)?[0-9a-fA-F]+"},
        {"<addr>", "(0x)?[0-9a-fA-F]+"},
        {"<time>", "[0-9]+([.][0-9]+)? ?(ns|us|µs|ms|s|min)?"},
        {"<text>", ".*"},
    };
    return m;
}
inline constexpr std::string_view kAnyLines = "<...>";

// One expected line as a regular expression: everything literal but the placeholders.
[[nodiscard]] inline std::regex line_pattern(const std::string& expected) {
    std::string re;
    for (size_t i = 0; i < expected.size();) {
        bool replaced = false;
        if (expected[i] == '<') {
            for (const auto& [ph, pat] : placeholders())
                if (expected.compare(i, ph.size(), ph) == 0) {
                    re += "(" + pat + ")";
                    i += ph.size();
                    replaced = true;
                    break;
                }
        }
        if (replaced) continue;
        const char c = expected[i++];
        if (std::string_view(R"(\^$.|?*+()[]{})").find(c) != std::string_view::npos) re += '\\';
        re += c;
    }
    return std::regex(re);
}

// Output as a reader's terminal shows it: "\r\n" is a newline, and a line
// redrawn with "\r" shows only its last version. Lines are trimmed, trailing
// blank lines dropped.
[[nodiscard]] inline std::vector<std::string> terminal_lines(std::string_view raw) {
    std::vector<std::string> out;
    for (auto l : lines(raw)) {
        if (auto cr = l.rfind('\r'); cr != std::string::npos) l = trim(l.substr(cr + 1));
        out.push_back(l);
    }
    while (!out.empty() && out.back().empty()) out.pop_back();
    return out;
}

// True when the actual lines match the expected ones; otherwise `why` names
// the first expected line that did not match.
[[nodiscard]] inline bool output_matches(const std::vector<std::string>& expected,
                                         const std::vector<std::string>& actual, std::string& why) {
    std::vector<std::optional<std::regex>> pats;
    for (const auto& e : expected)
        pats.push_back(e == kAnyLines ? std::nullopt : std::optional<std::regex>(line_pattern(e)));
    // match[i][j]: expected[i..] matches actual[j..]; filled from the end.
    const size_t n = expected.size(), m = actual.size();
    std::vector<std::vector<char>> ok(n + 1, std::vector<char>(m + 1, 0));
    ok[n][m] = 1;
    size_t deepest = n;  // the earliest expected line from which a match is possible at all
    for (size_t i = n; i-- > 0;) {
        for (size_t j = m + 1; j-- > 0;) {
            if (!pats[i])
                ok[i][j] = ok[i + 1][j] || (j < m && ok[i][j + 1]);
            else
                ok[i][j] = j < m && ok[i + 1][j + 1] && std::regex_match(actual[j], *pats[i]);
        }
        if (std::any_of(ok[i].begin(), ok[i].end(), [](char c) { return c != 0; })) deepest = i;
    }
    if (ok[0][0]) return true;
    // The first expected line that does not match the line in its place.
    size_t i = 0, j = 0;
    while (i < n && j < m && pats[i] && std::regex_match(actual[j], *pats[i])) ++i, ++j;
    if (i < n && pats[i])
        why = "expected \"" + expected[i] + "\", got " +
              (j < m ? "\"" + actual[j] + "\"" : "no more output");
    else if (i == n)
        why = "unexpected further output: \"" + (j < m ? actual[j] : std::string()) + "\"";
    else
        why = "no match from expected line \"" + expected[std::min(deepest, n - 1)] + "\" on";
    return false;
}

// -------------------------------------------------------------- citations

// Test names cited in a text: chapterNN.Suite.Case (also chapterNN.run.prog,
// parameterised names with '/'), questions.Name and kit.x.y.
[[nodiscard]] inline std::set<std::string> cited_tests(const std::string& text) {
    static const std::regex re(
        R"(\b(chapter[0-9]{2}(\.[A-Za-z0-9_/]+){2,}|questions\.[A-Za-z0-9_]+|kit\.[a-z]+\.[A-Za-z0-9_.]+))");
    std::set<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
        std::string name = it->str();
        while (!name.empty() && name.back() == '.') name.pop_back();  // sentence-final dot
        out.insert(name);
    }
    return out;
}

// Each "### Q" section of a question file must have the Chinese phrasing
// ("> ..."), an "**Answer.**" and a "**Proof.**" line. Returns the headings
// of sections that lack one, with what is missing.
[[nodiscard]] inline std::vector<std::string> malformed_questions(std::string_view markdown) {
    std::vector<std::string> bad;
    auto ls = lines(markdown);
    for (size_t i = 0; i < ls.size(); ++i) {
        if (ls[i].rfind("### Q", 0) != 0) continue;
        bool zh = false, answer = false, proof = false;
        size_t j = i + 1;
        for (; j < ls.size() && ls[j].rfind("## ", 0) != 0 && ls[j].rfind("### ", 0) != 0; ++j) {
            zh = zh || ls[j].rfind("> ", 0) == 0;
            answer = answer || ls[j].rfind("**Answer.**", 0) == 0;
            proof = proof || ls[j].rfind("**Proof.**", 0) == 0;
        }
        std::string missing;
        if (!zh) missing += " the Chinese phrasing (> ...)";
        if (!answer) missing += " **Answer.**";
        if (!proof) missing += " **Proof.**";
        if (!missing.empty()) bad.push_back(ls[i] + " — missing" + missing);
        i = j - 1;
    }
    return bad;
}

// A piece of text that must carry its own proof: a question (its whole
// section) or an item of a lesson's "Kernel facts" or "Myths" section.
struct Claim {
    int line = 0;
    std::string heading;  // the question, or the item's first line
    std::string text;     // all of it
    std::string proof;    // the "**Proof.**" paragraph (questions only)
    bool question = false;
};

// The questions of a question file.
[[nodiscard]] inline std::vector<Claim> question_claims(std::string_view markdown) {
    std::vector<Claim> out;
    auto ls = lines(markdown);
    for (size_t i = 0; i < ls.size(); ++i) {
        if (ls[i].rfind("### Q", 0) != 0) continue;
        Claim c{static_cast<int>(i + 1), ls[i], ls[i] + "\n", "", true};
        size_t j = i + 1;
        for (bool in_proof = false;
             j < ls.size() && ls[j].rfind("## ", 0) != 0 && ls[j].rfind("### ", 0) != 0; ++j) {
            c.text += ls[j] + "\n";
            if (ls[j].rfind("**Proof.**", 0) == 0)
                in_proof = true;
            else if (ls[j].empty() || ls[j].rfind("**", 0) == 0)
                in_proof = false;
            if (in_proof) c.proof += ls[j] + "\n";
        }
        out.push_back(std::move(c));
        i = j - 1;
    }
    return out;
}

// The items (bullets, numbered items, paragraphs, table rows) of the lesson
// sections whose "## " heading contains one of `sections`; code blocks,
// sub-headings and table header rows are not items.
[[nodiscard]] inline std::vector<Claim> section_items(std::string_view markdown,
                                                      const std::vector<std::string>& sections) {
    std::vector<Claim> out;
    auto ls = lines(markdown);
    bool inside = false, fence = false;
    Claim* open = nullptr;
    auto is_bullet = [](const std::string& l) {
        static const std::regex re(R"(^([-*]|[0-9]+\.)\s)");
        return std::regex_search(l, re);
    };
    for (size_t i = 0; i < ls.size(); ++i) {
        const auto& l = ls[i];
        if (l.rfind("```", 0) == 0) {
            fence = !fence;
            open = nullptr;
            continue;
        }
        if (fence) continue;
        if (l.rfind("## ", 0) == 0) {
            inside = std::any_of(sections.begin(), sections.end(), [&](const std::string& s) {
                return l.find(s) != std::string::npos;
            });
            open = nullptr;
            continue;
        }
        if (!inside) continue;
        if (l.empty() || l.rfind("#", 0) == 0 || l.rfind("<!--", 0) == 0) {
            open = nullptr;
            continue;
        }
        if (l.rfind("|", 0) == 0) {
            open = nullptr;
            const bool separator = l.find_first_not_of("|-: ") == std::string::npos;
            const bool header = i + 1 < ls.size() && ls[i + 1].rfind("|", 0) == 0 &&
                                ls[i + 1].find_first_not_of("|-: ") == std::string::npos;
            if (!separator && !header) out.push_back({static_cast<int>(i + 1), l, l, "", false});
            continue;
        }
        if (is_bullet(l) || open == nullptr) {
            out.push_back({static_cast<int>(i + 1), l, l + "\n", "", false});
            open = &out.back();
        } else {
            open->text += l + "\n";
        }
    }
    return out;
}

// The fixed form of a proof line for a question no test can show.
[[nodiscard]] inline bool conceptual_proof(const std::string& proof) {
    static const std::regex re(R"(no test: conceptual \([^)]{8,}\))");
    return std::regex_search(proof, re);
}

// Error and signal names a text mentions ("EAGAIN", "SIGPIPE"), from the sets given.
[[nodiscard]] inline std::set<std::string> named_constants(const std::string& text,
                                                           const std::set<std::string>& known) {
    static const std::regex re(R"(\b(E[A-Z0-9]{2,}|SIG[A-Z0-9]{2,})\b)");
    std::set<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        if (known.count(it->str())) out.insert(it->str());
    return out;
}

// The body of each GoogleTest case in a test source, by "Suite.Case": from its
// TEST/TEST_F/TEST_P line to the next one. (A parameterised case's ctest name
// has a prefix and a "/N" suffix; callers strip those.)
[[nodiscard]] inline std::map<std::string, std::string> test_bodies(const std::string& source) {
    static const std::regex head(
        R"((^|\n)\s*TEST(_F|_P)?\(\s*([A-Za-z0-9_]+)\s*,\s*([A-Za-z0-9_]+)\s*\))");
    std::map<std::string, std::string> out;
    std::vector<std::pair<size_t, std::string>> starts;
    for (std::sregex_iterator it(source.begin(), source.end(), head), end; it != end; ++it)
        starts.emplace_back(static_cast<size_t>(it->position(0)),
                            (*it)[3].str() + "." + (*it)[4].str());
    for (size_t k = 0; k < starts.size(); ++k) {
        const size_t from = starts[k].first;
        const size_t to = k + 1 < starts.size() ? starts[k + 1].first : source.size();
        out[starts[k].second] = source.substr(from, to - from);
    }
    return out;
}

}  // namespace kit::text
