// kit_test/main.cpp — the main() of every test binary of the kit.
//
// GoogleTest's own gtest_main, plus two things a reader of the kit relies on:
//  - a flag GoogleTest does not know (a typo, "--bogus") stops the binary with
//    GoogleTest's usage and exit status 2, instead of running the whole chapter;
//  - a case that skips on this machine appends "<binary>\t<Suite.Case>\t<reason>"
//    to the file named by $KIT_SKIP_LOG, so the proof checker can say which
//    cited proofs did not run here.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "kit/check.hpp"

namespace {

class SkipRecorder : public ::testing::EmptyTestEventListener {
public:
    SkipRecorder(std::string path, std::string binary)
        : path_(std::move(path)), binary_(std::move(binary)) {}

    void OnTestEnd(const ::testing::TestInfo& info) override {
        const auto* result = info.result();
        if (result == nullptr || !result->Skipped()) return;
        std::string reason;
        for (int i = 0; i < result->total_part_count(); ++i) {
            const auto& part = result->GetTestPartResult(i);
            if (part.skipped()) reason = part.message();
        }
        if (auto nl = reason.find('\n'); nl != std::string::npos) reason.resize(nl);
        for (auto& c : reason)
            if (c == '\t') c = ' ';
        std::string line =
            binary_ + "\t" + info.test_suite_name() + "." + info.name() + "\t" + reason + "\n";
        // One write() with O_APPEND: lines from parallel test processes never mix.
        int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd == -1) return;
        (void)!::write(fd, line.data(), line.size());
        ::close(fd);
    }

private:
    std::string path_;
    std::string binary_;
};

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // GoogleTest leaves its help flags in argv after printing its usage.
    int unknown = 1;
    while (unknown < argc &&
           (std::strcmp(argv[unknown], "--help") == 0 || std::strcmp(argv[unknown], "-h") == 0 ||
            std::strcmp(argv[unknown], "-?") == 0 || std::strcmp(argv[unknown], "/?") == 0))
        ++unknown;
    if (unknown < argc) {
        const auto prog = kit::program_name(argv[0]);
        std::fprintf(
            stderr,
            "%.*s: unknown flag %s (a test binary takes GoogleTest's --gtest_* flags only)\n",
            int(prog.size()), prog.data(), kit::quoted(argv[unknown]).c_str());
        // GoogleTest prints its usage only while parsing a first --help: run
        // this binary once more with that flag alone, then refuse.
        std::fflush(nullptr);
        if (pid_t pid = ::fork(); pid == 0) {
            char help[] = "--help";
            char* help_argv[] = {argv[0], help, nullptr};
            ::execv("/proc/self/exe", help_argv);
            ::_exit(127);
        } else if (pid > 0) {
            int status = 0;
            while (::waitpid(pid, &status, 0) == -1 && errno == EINTR) {
            }
        }
        return 2;
    }
    if (const char* log = std::getenv("KIT_SKIP_LOG"); log != nullptr && *log != '\0')
        ::testing::UnitTest::GetInstance()->listeners().Append(
            std::make_unique<SkipRecorder>(log, std::string(kit::program_name(argv[0]))).release());
    return RUN_ALL_TESTS();
}
