// Tests of the kit's tools (kit.tools.*): the leak guard's comparison, and the
// lesson checker's rules — each way of faking a proof or drifting a lesson
// must make the checker fail.
#include <gtest/gtest.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit_test/leak.hpp"
#include "kit_test/program.hpp"
#include "text_checks.hpp"

namespace {

}  // namespace

TEST(LeakGuard, ReportsAnExtraObjectByName) {
    std::vector<std::string> before = {"/dev/shm/ipckit-1-0-a", "sysv-msg key=0x00000000 id=3"};
    auto after = before;
    after.push_back("/tmp/ipckit-9-1-fifo");
    EXPECT_EQ(kit::leak::new_objects(before, after), std::vector<std::string>{"/tmp/ipckit-9-1-fifo"});
    EXPECT_TRUE(kit::leak::new_objects(after, before).empty());  // removed objects are no leak
}

TEST(LeakGuard, SnapshotSeesAFifoOfOursAndASysvQueue) {
    const auto path = kit::unique_temp_path("fifo");
    auto before = kit::leak::snapshot();
    auto guard = kit::unlink_guard(path);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    int id = kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
    auto q = kit::msg_guard(id);
    auto leaked = kit::leak::new_objects(before, kit::leak::snapshot());
    EXPECT_NE(std::find(leaked.begin(), leaked.end(), path), leaked.end());
    const auto id_suffix = " id=" + std::to_string(id);
    EXPECT_NE(std::find_if(leaked.begin(), leaked.end(),
                           [&](const std::string& s) {
                               return s.rfind("sysv-msg ", 0) == 0 && s.ends_with(id_suffix);
                           }),
              leaked.end());
}

TEST(LeakGuard, ParsesProcSysvipc) {
    const auto path = kit::unique_temp_path("sysvipc");
    auto guard = kit::unlink_guard(path);
    std::ofstream(path) << "       key      msqid perms ...\n"
                        << "         0          5   600 0 0\n";
    EXPECT_EQ(kit::leak::sysv_objects(path, "msg"), std::vector<std::string>{"sysv-msg key=0 id=5"});
}

TEST(TextChecks, ExcerptMatchesIgnoringIndentationAndAllowsElisions) {
    auto src = kit::text::lines("int main() {\n    int fds[2];\n    pipe(fds);\n    fork();\n}\n");
    auto excerpt = [&](std::vector<std::string> body) {
        return kit::text::excerpt_in_source(kit::text::Block{1, std::move(body), ""}, src).found;
    };
    EXPECT_TRUE(excerpt({"int fds[2];", "pipe(fds);"}));
    EXPECT_TRUE(excerpt({"int main() {", "// ...", "fork();"}));
    EXPECT_FALSE(excerpt({"int fds[2];", "pipe2(fds, 0);"}));
    EXPECT_FALSE(excerpt({"fork();", "// ...", "pipe(fds);"}));
}

TEST(TextChecks, FindsCppBlocksAndCitedTests) {
    const std::string md =
        "text\n```cpp\nint x;\n```\n```sh\nls\n```\n"
        "proved by `chapter01.PipeAtomicity.WritesUpToPipeBufDoNotInterleave`.\n"
        "see chapter01.run.pipe_capacity and questions.ProofsExist; run ctest -R chapter05.\n";
    auto blocks = kit::text::fenced_blocks(md, "cpp");
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].line, 2);
    EXPECT_EQ(blocks[0].body, std::vector<std::string>{"int x;"});
    EXPECT_EQ(kit::text::cited_tests(md),
              (std::set<std::string>{"chapter01.PipeAtomicity.WritesUpToPipeBufDoNotInterleave",
                                     "chapter01.run.pipe_capacity", "questions.ProofsExist"}));
}

TEST(TextChecks, QuestionWithoutProofIsReported) {
    const std::string md =
        "### Q1. Good?\n> 好吗？\n\n**Answer.** Yes.\n\n**Proof.** `chapter01.A.B`\n"
        "### Q2. Bad?\n> 坏吗？\n\n**Answer.** No proof.\n";
    auto bad = kit::text::malformed_questions(md);
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_EQ(bad[0], "### Q2. Bad? — missing **Proof.**");
}
