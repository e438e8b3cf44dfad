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
#include <iterator>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit_test/leak.hpp"
#include "kit_test/program.hpp"
#include "text_checks.hpp"

namespace {

namespace fs = std::filesystem;

// A throw-away kit: a source root with one chapter (01_demo) and its question
// file, and a build tree whose CTestTestfile.cmake lists the chapter's tests —
// enough for lesson_check to judge. Removed on destruction.
class FakeKit {
public:
    FakeKit() : root_(kit::unique_temp_path("fakekit")) {
        fs::create_directories(root_ / "01_demo");
        fs::create_directories(root_ / "questions");
        fs::create_directories(build() / "01_demo");
        write("01_demo/demo.cpp",
              "int main() {\n"
              "    int fd = kit::check(::open(path, O_RDONLY), \"open\");\n"
              "    char buf[16];\n"
              "    ssize_t n = kit::check(::read(fd, buf, sizeof buf), \"read\");\n"
              "    kit::check(::close(fd), \"close\");\n"
              "    std::printf(\"read %zd bytes\\n\", n);\n"
              "}\n");
        write("01_demo/demo_test.cpp",
              "TEST(PipeWrite, FullPipeFailsWithEagain) {\n"
              "    EXPECT_EQ(errno, EAGAIN);\n"
              "}\n"
              "TEST(PipeRead, ReadReturnsTheBytes) {\n"
              "    EXPECT_EQ(n, 5);\n"
              "}\n");
        std::ofstream(build() / "CTestTestfile.cmake")
            << "add_test([=[chapter01.PipeWrite.FullPipeFailsWithEagain]=] "
               "\"/b/01_demo/01_demo_test\" "
               "\"--gtest_filter=PipeWrite.FullPipeFailsWithEagain\")\n"
            << "add_test([=[chapter01.PipeRead.ReadReturnsTheBytes]=] \"/b/01_demo/01_demo_test\" "
               "\"--gtest_filter=PipeRead.ReadReturnsTheBytes\")\n"
            << "add_test([=[chapter01.DISABLED_Old.Case]=] \"/b/01_demo/01_demo_test\" "
               "\"--gtest_filter=DISABLED_Old.Case\")\n"
            << "set_tests_properties([=[chapter01.DISABLED_Old.Case]=] PROPERTIES DISABLED TRUE)\n";
        // A "program" for output blocks: what the lesson's "$ ./capacity" runs.
        std::ofstream(build() / "01_demo" / "capacity")
            << "#!/bin/sh\necho \"capacity: 65536 bytes (PIPE_BUF: 4096)\"\necho \"pid $$\"\n";
        fs::permissions(build() / "01_demo" / "capacity", fs::perms::owner_all);
    }
    ~FakeKit() {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    FakeKit(const FakeKit&) = delete;
    FakeKit& operator=(const FakeKit&) = delete;

    void write(const std::string& rel, const std::string& text) {
        std::ofstream(root_ / rel) << text;
    }
    [[nodiscard]] fs::path build() const { return root_ / "build"; }
    [[nodiscard]] std::string lesson() const { return (root_ / "01_demo" / "README.md").string(); }
    [[nodiscard]] std::string questions() const {
        return (root_ / "questions" / "01_demo.md").string();
    }

    kit::test::Captured code() {
        return kit::test::run_program({tool(), "code", (root_ / "01_demo").string()});
    }
    kit::test::Captured output() {
        return kit::test::run_program(
            {tool(), "output", (root_ / "01_demo").string(), (build() / "01_demo").string()});
    }
    kit::test::Captured proofs() {
        return kit::test::run_program({tool(), "proofs", root_.string(), build().string(),
                                       (build() / "skipped.log").string(), lesson(), questions()});
    }

private:
    static std::string tool() { return std::string(KIT_TOOLS_DIR) + "/lesson_check"; }
    fs::path root_;
};

// A lesson that passes every check; each test below changes one thing.
const std::string kGoodLesson =
    "# 01 · Demo (演示)\n\n"
    "```cpp\n"
    "    int fd = kit::check(::open(path, O_RDONLY), \"open\");\n"
    "// ...\n"
    "    ssize_t n = kit::check(::read(fd, buf, sizeof buf), \"read\");\n"
    "```\n\n"
    "```sh\n"
    "$ ./capacity\n"
    "capacity: 65536 bytes (PIPE_BUF: 4096)\n"
    "pid <pid>\n"
    "```\n\n"
    "## Kernel facts and pitfalls\n\n"
    "- A full pipe refuses a non-blocking write with `EAGAIN` (proved by\n"
    "  chapter01.PipeWrite.FullPipeFailsWithEagain).\n\n"
    "## Myths\n\n"
    "- **\"reads lose bytes\"** — no (chapter01.PipeRead.ReadReturnsTheBytes).\n";

const std::string kGoodQuestions =
    "### Q1. What does a full pipe do to a non-blocking write?\n> 管道满时？\n\n"
    "**Answer.** It fails with EAGAIN.\n\n"
    "**Proof.** `chapter01.PipeWrite.FullPipeFailsWithEagain`\n";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << "the mutation does not apply: " << from;
    if (pos != std::string::npos) text.replace(pos, from.size(), to);
    return text;
}

}  // namespace

TEST(LessonCheck, TheUnchangedLessonPassesEveryCheck) {
    FakeKit k;
    k.write("01_demo/README.md", kGoodLesson);
    k.write("questions/01_demo.md", kGoodQuestions);
    auto code = k.code(), output = k.output(), proofs = k.proofs();
    EXPECT_TRUE(code.status.ok()) << code.out;
    EXPECT_TRUE(output.status.ok()) << output.out;
    EXPECT_TRUE(proofs.status.ok()) << proofs.out;
    EXPECT_NE(output.out.find("1 block(s) checked (1 command(s) run), 0 unchecked"),
              std::string::npos)
        << output.out;
}

TEST(LessonCheck, FalsifiedProgramOutputFails) {
    FakeKit k;
    k.write("01_demo/README.md", replaced(kGoodLesson, "capacity: 65536 bytes (PIPE_BUF: 4096)",
                                          "capacity: 4096 bytes (PIPE_BUF: 65536)"));
    auto r = k.output();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("expected \"capacity: 4096 bytes (PIPE_BUF: 65536)\""), std::string::npos)
        << r.out;
}

TEST(LessonCheck, PlaceholdersMatchOnlyWhatTheyStandFor) {
    FakeKit k;
    k.write("01_demo/README.md",
            replaced(kGoodLesson, "capacity: 65536 bytes", "capacity: <n> bytes"));
    EXPECT_TRUE(k.output().status.ok());
    k.write("01_demo/README.md", replaced(kGoodLesson, "pid <pid>", "pid <hex>x"));
    EXPECT_TRUE(k.output().status.exited_with(1));
    k.write("01_demo/README.md", replaced(kGoodLesson, "pid <pid>\n", "<...>\n"));
    EXPECT_TRUE(k.output().status.ok());
    k.write("01_demo/README.md", replaced(kGoodLesson, "pid <pid>\n", ""));
    EXPECT_TRUE(k.output().status.exited_with(1)) << "unexpected further output must fail";
}

TEST(LessonCheck, AnUncheckedBlockIsCountedWithItsReason) {
    FakeKit k;
    k.write("01_demo/README.md",
            replaced(kGoodLesson, "```sh\n$ ./capacity",
                     "<!-- unchecked: needs a second terminal -->\n```sh\n$ ./capacity"));
    auto r = k.output();
    EXPECT_TRUE(r.status.ok()) << r.out;
    EXPECT_NE(r.out.find("0 block(s) checked (0 command(s) run), 1 unchecked"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("needs a second terminal"), std::string::npos) << r.out;
}

TEST(LessonCheck, AWhatItPrintsColumnFails) {
    FakeKit k;
    k.write("01_demo/README.md",
            kGoodLesson +
                "\n## The programs\n\n| File | What it prints |\n|---|---|\n| demo | `ok` |\n");
    EXPECT_TRUE(k.output().status.exited_with(1));
}

TEST(LessonCheck, AnExcerptCopiedFromATestFileFails) {
    FakeKit k;
    k.write("01_demo/README.md", kGoodLesson + "\n```cpp\n    EXPECT_EQ(errno, EAGAIN);\n```\n");
    auto r = k.code();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("not found in the chapter's programs or headers"), std::string::npos)
        << r.out;
}

TEST(LessonCheck, AnExcerptOfOnlyAnElisionFails) {
    FakeKit k;
    k.write("01_demo/README.md", kGoodLesson + "\n```cpp\n// ...\n```\n");
    auto r = k.code();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("elision marker"), std::string::npos) << r.out;
}

TEST(LessonCheck, AnElisionThatHidesACloseOrACheckFails) {
    FakeKit k;
    k.write("01_demo/README.md", kGoodLesson +
                                     "\n```cpp\n    char buf[16];\n// ...\n"
                                     "    std::printf(\"read %zd bytes\\n\", n);\n```\n");
    auto r = k.code();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("the elision skips"), std::string::npos) << r.out;
}

TEST(ProofCheck, AProofThatNamesNoTestFails) {
    FakeKit k;
    k.write("01_demo/README.md", kGoodLesson);
    k.write("questions/01_demo.md",
            replaced(kGoodQuestions, "**Proof.** `chapter01.PipeWrite.FullPipeFailsWithEagain`",
                     "**Proof.** trust me."));
    auto r = k.proofs();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("names no test"), std::string::npos) << r.out;
}

TEST(ProofCheck, AConceptualProofNeedsItsReason) {
    FakeKit k;
    k.write("01_demo/README.md", kGoodLesson);
    const std::string q = replaced(kGoodQuestions, "It fails with EAGAIN.", "It depends.");
    k.write("questions/01_demo.md",
            replaced(q, "`chapter01.PipeWrite.FullPipeFailsWithEagain`", "no test: conceptual"));
    EXPECT_TRUE(k.proofs().status.exited_with(1));
    k.write("questions/01_demo.md",
            replaced(q, "`chapter01.PipeWrite.FullPipeFailsWithEagain`",
                     "no test: conceptual (a design choice, not a kernel fact)"));
    EXPECT_TRUE(k.proofs().status.ok());
}

TEST(ProofCheck, AnUncitedKernelFactFails) {
    FakeKit k;
    k.write("01_demo/README.md",
            replaced(kGoodLesson, "## Myths", "- A pipe holds at most 4096 bytes.\n\n## Myths"));
    k.write("questions/01_demo.md", kGoodQuestions);
    auto r = k.proofs();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("cites no test"), std::string::npos) << r.out;
}

TEST(ProofCheck, AnUncitedParagraphInTheFactsFailsToo) {
    FakeKit k;
    k.write("01_demo/README.md",
            replaced(kGoodLesson, "## Myths", "Writes never block.\n\n## Myths"));
    k.write("questions/01_demo.md", kGoodQuestions);
    EXPECT_TRUE(k.proofs().status.exited_with(1));
}

TEST(ProofCheck, AFalseClaimCitingAnUnrelatedTestFails) {
    FakeKit k;
    k.write("01_demo/README.md", replaced(kGoodLesson, "## Myths",
                                          "- Reading an empty pipe fails with `ENOSPC` (proved by "
                                          "chapter01.PipeRead.ReadReturnsTheBytes).\n\n"
                                          "## Myths"));
    k.write("questions/01_demo.md", kGoodQuestions);
    auto r = k.proofs();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("names ENOSPC, but no test it cites mentions ENOSPC"), std::string::npos)
        << r.out;
}

TEST(ProofCheck, ACitationOfAMissingTestFails) {
    FakeKit k;
    k.write("01_demo/README.md",
            replaced(kGoodLesson, "PipeRead.ReadReturnsTheBytes", "PipeRead.NoSuchCase"));
    k.write("questions/01_demo.md", kGoodQuestions);
    auto r = k.proofs();
    EXPECT_TRUE(r.status.exited_with(1)) << r.out;
    EXPECT_NE(r.out.find("cites chapter01.PipeRead.NoSuchCase, which is not a test"),
              std::string::npos)
        << r.out;
}

TEST(ProofCheck, CitedTestsThatSkipHereOrAreDisabledAreReportedNotFailed) {
    FakeKit k;
    k.write("01_demo/README.md", replaced(kGoodLesson, "ReadReturnsTheBytes).",
                                          "ReadReturnsTheBytes, chapter01.DISABLED_Old.Case)."));
    k.write("questions/01_demo.md", kGoodQuestions);
    std::ofstream(k.build() / "skipped.log")
        << "01_demo_test\tPipeWrite.FullPipeFailsWithEagain\tneeds a capability\n";
    auto r = k.proofs();
    EXPECT_TRUE(r.status.ok()) << r.out;
    EXPECT_NE(r.out.find("2 cited test(s) not proved on this machine"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(
                  "chapter01.PipeWrite.FullPipeFailsWithEagain (skipped here: needs a capability)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("chapter01.DISABLED_Old.Case (disabled)"), std::string::npos) << r.out;
}

TEST(ProofCheck, RunningItLeavesCtestsLogAlone) {
    FakeKit k;
    k.write("01_demo/README.md", kGoodLesson);
    k.write("questions/01_demo.md", kGoodQuestions);
    fs::create_directories(k.build() / "Testing" / "Temporary");
    const auto log = k.build() / "Testing" / "Temporary" / "LastTest.log";
    std::ofstream(log) << "the whole last run\n";
    EXPECT_TRUE(k.proofs().status.ok());
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "the whole last run\n");
}

TEST(LeakGuard, ReportsAnExtraObjectByName) {
    std::vector<std::string> before = {"/dev/shm/ipckit-1-0-a", "sysv-msg key=0x00000000 id=3"};
    auto after = before;
    after.push_back("/tmp/ipckit-9-1-fifo");
    EXPECT_EQ(kit::leak::new_objects(before, after),
              std::vector<std::string>{"/tmp/ipckit-9-1-fifo"});
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
    EXPECT_EQ(kit::leak::sysv_objects(path, "msg"),
              std::vector<std::string>{"sysv-msg key=0 id=5"});
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
