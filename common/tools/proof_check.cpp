// proof_check — every test a lesson or an answer cites must exist.
//
//   proof_check CTEST BUILD_DIR FILE.md...
//
// Lists the tests with `CTEST -N --test-dir BUILD_DIR`, extracts every cited
// test name (chapterNN.Suite.Case, chapterNN.run.program, questions.Name) from
// the files, and fails naming each citation that is not a test. In question
// files (questions/NN_*.md) it also checks each question's shape (CONVENTIONS §7).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>
#include <string>

#include "kit/check.hpp"
#include "kit/proc.hpp"
#include "text_checks.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "CTEST BUILD_DIR FILE.md...", [](auto args) {
        if (args.size() < 2) throw kit::UsageError{};
        const std::string cmd = std::string(args[0]) + " -N --test-dir '" + std::string(args[1]) + "'";
        FILE* p = kit::check(::popen(cmd.c_str(), "r"), static_cast<FILE*>(nullptr), "popen");
        std::string listing;
        char buf[4096];
        for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) listing.append(buf, n);
        if (int st = ::pclose(p); st != 0) throw kit::SysError(ECHILD, cmd + " failed");

        static const std::regex test_line(R"(Test +#[0-9]+: (\S+))");
        std::set<std::string> tests;
        for (std::sregex_iterator it(listing.begin(), listing.end(), test_line), end; it != end; ++it)
            tests.insert((*it)[1].str());

        int missing = 0, cited = 0;
        for (const auto& file : args.subspan(2)) {
            const std::string path(file);
            auto text = kit::read_text_file(path);
            if (!text) throw kit::SysError(ENOENT, "open " + path);
            for (const auto& name : kit::text::cited_tests(*text)) {
                ++cited;
                if (tests.count(name)) continue;
                ++missing;
                std::cout << path << ": cites " << name << ", which is not a test\n";
            }
            const auto base = std::filesystem::path(path).filename().string();
            if (path.find("/questions/") != std::string::npos && base != "README.md") {
                for (const auto& bad : kit::text::malformed_questions(*text)) {
                    ++missing;
                    std::cout << path << ": " << bad << "\n";
                }
            }
        }
        std::cout << "proof check: " << cited << " citation(s) in " << args.size() - 2
                  << " file(s), " << tests.size() << " test(s) known, " << missing << " problem(s)\n";
        return missing == 0 ? 0 : 1;
    });
}
