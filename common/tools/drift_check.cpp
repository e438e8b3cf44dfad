// drift_check — a lesson's code blocks must be real code (CONVENTIONS §8).
//
//   drift_check 05_shm
//
// Every ```cpp block in <chapter>/README.md must appear verbatim (ignoring
// leading/trailing whitespace per line) in one source file of the chapter
// (*.cpp, *.hpp, *.h). A line "// ..." inside a block marks omitted lines.
// Prints each block that drifted, by its README line and first line; exit 1.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/proc.hpp"
#include "text_checks.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    return kit::run(argc, argv, "CHAPTER_DIR", [](auto args) {
        if (args.size() != 1) throw kit::UsageError{};
        const fs::path dir(args[0]);
        const auto readme = (dir / "README.md").string();
        auto md = kit::read_text_file(readme);
        if (!md) throw kit::SysError(ENOENT, "open " + readme);

        std::vector<std::vector<std::string>> sources;
        for (const auto& e : fs::directory_iterator(dir)) {
            auto ext = e.path().extension().string();
            if (ext == ".cpp" || ext == ".hpp" || ext == ".h")
                sources.push_back(kit::text::lines(kit::read_text_file(e.path().string()).value_or("")));
        }
        auto blocks = kit::text::fenced_blocks(*md, "cpp");
        int drifted = 0;
        for (const auto& b : blocks) {
            bool found = false;
            for (const auto& src : sources) found = found || kit::text::block_in_source(b, src);
            if (found) continue;
            ++drifted;
            std::string first = b.body.empty() ? "(empty)" : b.body.front();
            std::cout << readme << ":" << b.line << ": code block not found in the chapter's sources: "
                      << first << "\n";
        }
        std::cout << "drift check: " << blocks.size() << " cpp block(s), " << drifted
                  << " drifted\n";
        return drifted == 0 ? 0 : 1;
    });
}
