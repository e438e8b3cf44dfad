// text_checks.hpp — the logic behind drift_check and proof_check, kept apart
// from their main()s so that it can be unit-tested.
#pragma once

#include <algorithm>
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

// A fenced block of a given language: its first line number and its lines (trimmed).
struct Block {
    int line = 0;
    std::vector<std::string> body;
};

[[nodiscard]] inline std::vector<Block> fenced_blocks(std::string_view markdown,
                                                      std::string_view lang) {
    std::vector<Block> blocks;
    auto ls = lines(markdown);
    for (size_t i = 0; i < ls.size(); ++i) {
        if (ls[i] != "```" + std::string(lang)) continue;
        Block b;
        b.line = static_cast<int>(i + 1);
        for (++i; i < ls.size() && ls[i] != "```"; ++i) b.body.push_back(ls[i]);
        blocks.push_back(std::move(b));
    }
    return blocks;
}

// True if `needle` occurs as consecutive lines of `hay` starting at or after
// `from`; sets `from` to the line after the match.
inline bool find_lines(const std::vector<std::string>& hay, const std::vector<std::string>& needle,
                       size_t& from) {
    if (needle.empty()) return true;
    auto it = std::search(hay.begin() + static_cast<long>(std::min(from, hay.size())), hay.end(),
                          needle.begin(), needle.end());
    if (it == hay.end()) return false;
    from = static_cast<size_t>(it - hay.begin()) + needle.size();
    return true;
}

// A block appears in a source when its lines occur there verbatim (ignoring
// leading/trailing whitespace). A line "// ..." in the block marks an
// omission: the parts around it must occur in order in the same source.
[[nodiscard]] inline bool block_in_source(const Block& block, const std::vector<std::string>& src) {
    std::vector<std::vector<std::string>> parts(1);
    for (const auto& l : block.body) {
        if (l == "// ...")
            parts.emplace_back();
        else
            parts.back().push_back(l);
    }
    for (auto& p : parts) {  // blank lines at a part's edges are layout, not code
        while (!p.empty() && p.front().empty()) p.erase(p.begin());
        while (!p.empty() && p.back().empty()) p.pop_back();
    }
    size_t from = 0;
    return std::all_of(parts.begin(), parts.end(),
                       [&](const auto& p) { return find_lines(src, p, from); });
}

// Test names cited in a text: chapterNN.Suite.Case (also chapterNN.run.prog,
// parameterised names with '/'), and questions.Name.
[[nodiscard]] inline std::set<std::string> cited_tests(const std::string& text) {
    static const std::regex re(R"(\b(chapter[0-9]{2}(\.[A-Za-z0-9_/]+){2,}|questions\.[A-Za-z0-9_]+))");
    std::set<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        out.insert(it->str());
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

}  // namespace kit::text
