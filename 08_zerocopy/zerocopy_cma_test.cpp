// Chapter 08 · cross memory attach (CMA): process_vm_readv / process_vm_writev
// copy between two address spaces in one call; the kernel's ptrace access
// check decides who may.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>

#include "kit/child.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"
#include "kit_test/program.hpp"
#include "zerocopy_test.hpp"

namespace {

// The buffer a target child holds; after fork it sits at the same address in
// both processes, so the parent knows where to look.
char g_note[64];

// A target child: fills g_note, optionally runs `prepare` (drop privileges,
// become non-dumpable), says "ready" (or "failed"), then waits for one byte on
// `go` and exits 0 if g_note then holds `expect_after` (empty: anything).
template <class Prepare>
kit::Child target(kit::Pipe& ready, kit::Pipe& go, std::string expect_after, Prepare prepare) {
    return kit::spawn([&ready, &go, expect_after, prepare] {
        std::strcpy(g_note, "the target's own bytes");
        const bool ok = prepare();
        kit::check(::write(ready.write.get(), ok ? "r" : "f", 1), "write");
        char c;
        if (kit::read_full(go.read.get(), std::as_writable_bytes(std::span(&c, 1))) != 1) return 2;
        return expect_after.empty() || expect_after == g_note ? 0 : 1;
    });
}

bool target_ready(kit::Pipe& ready) {
    char c = 0;
    return kit::wait_readable(ready.read.get()) && ::read(ready.read.get(), &c, 1) == 1 && c == 'r';
}

void release(kit::Pipe& go) { kit::check(::write(go.write.get(), "!", 1), "write"); }

// Reads the target's g_note into `out`; the call's result (-1 and errno on failure).
ssize_t read_note(pid_t pid, char (&out)[64]) {
    iovec local{out, sizeof out}, remote{g_note, sizeof g_note};
    return ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

// Runs as the unprivileged user "nobody" (65534): no capabilities left.
bool become_nobody() {
    return ::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0;
}

}  // namespace

TEST(CrossMemory, TheProgramReadsAndWritesItsChildsMemory) {
    auto r = kit::test::run_program({kit::test::program_path("cross_memory_attach")});
    ASSERT_TRUE(r.status.ok()) << r.status.describe() << "\n" << r.err;
    if (r.out.find("cannot show it here") != std::string::npos) GTEST_SKIP() << r.out;
    EXPECT_NE(r.out.find("parent read 64 bytes from the child: \"a note in the child's memory\""),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("child now holds \"a reply written by the parent\""), std::string::npos)
        << r.out;
}

// One call copies the target's bytes into the caller's buffer, and one call
// copies the caller's bytes into the target: no mapping is shared, so a later
// change on either side is not seen by the other (unlike shared memory).
TEST(CrossMemory, ReadvAndWritevCopyBetweenAddressSpacesWithoutSharingThem) {
    kit::Pipe ready = kit::make_pipe(), go = kit::make_pipe();
    kit::Child t = target(ready, go, "written by the test", [] { return true; });
    ASSERT_TRUE(target_ready(ready));
    char got[64] = {};
    ssize_t n = read_note(t.pid(), got);
    if (n == -1 && (errno == ENOSYS || errno == EPERM))
        GTEST_SKIP() << "process_vm_readv refused here: " << std::strerror(errno);
    ASSERT_EQ(n, 64) << std::strerror(errno);
    EXPECT_STREQ(got, "the target's own bytes");
    char reply[] = "written by the test";
    iovec from{reply, sizeof reply}, into{g_note, sizeof reply};
    ASSERT_EQ(::process_vm_writev(t.pid(), &from, 1, &into, 1, 0), ssize_t(sizeof reply));
    EXPECT_STREQ(got, "the target's own bytes") << "our copy did not change with theirs";
    EXPECT_STRNE(g_note, "written by the test") << "our g_note is not theirs: nothing is shared";
    release(go);
    EXPECT_TRUE(t.wait().ok()) << "the target holds what we wrote";
}

TEST(CrossMemory, AnUnmappedRemoteAddressFailsWithEfault) {
    kit::Pipe ready = kit::make_pipe(), go = kit::make_pipe();
    kit::Child t = target(ready, go, "", [] { return true; });
    ASSERT_TRUE(target_ready(ready));
    char got[16];
    iovec local{got, sizeof got}, remote{nullptr, sizeof got};  // page 0 is never mapped
    errno = 0;
    ssize_t n = ::process_vm_readv(t.pid(), &local, 1, &remote, 1, 0);
    if (n == -1 && (errno == ENOSYS || errno == EPERM))
        GTEST_SKIP() << "process_vm_readv refused here: " << std::strerror(errno);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, EFAULT);
    release(go);
    EXPECT_TRUE(t.wait().ok());
}

// No process has a pid above pid_max (at most 4194304), so INT_MAX names none.
TEST(CrossMemory, ANonexistentPidFailsWithEsrch) {
    char got[16], src[16] = {};
    iovec local{got, sizeof got}, remote{src, sizeof src};
    errno = 0;
    ssize_t n = ::process_vm_readv(INT_MAX, &local, 1, &remote, 1, 0);
    if (n == -1 && errno == ENOSYS) GTEST_SKIP() << "process_vm_readv is not available here";
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, ESRCH);
}

// The access check is ptrace's (PTRACE_MODE_ATTACH_REALCREDS): same user, and
// the target dumpable, unless the caller has CAP_SYS_PTRACE. Both processes run
// as "nobody" so that no capability decides; only PR_SET_DUMPABLE differs.
TEST(CrossMemory, ANonDumpableProcessCannotBeReadByAnUnprivilegedPeer) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to run both processes as the unprivileged user nobody";
    if (kit::read_long_file("/proc/sys/kernel/yama/ptrace_scope").value_or(0) >= 1)
        GTEST_SKIP() << "Yama ptrace_scope >= 1 refuses a sibling reader even when dumpable";
    for (bool dumpable : {true, false}) {
        SCOPED_TRACE(dumpable ? "dumpable target" : "non-dumpable target");
        kit::Pipe ready = kit::make_pipe(), go = kit::make_pipe();
        kit::Child t = target(ready, go, "", [dumpable] {
            // Changing uid makes a process non-dumpable; set the flag after it.
            return become_nobody() && ::prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0) == 0;
        });
        ASSERT_TRUE(target_ready(ready)) << "the target could not become nobody";
        const pid_t tp = t.pid();
        kit::Child reader = kit::spawn([tp] {
            if (!become_nobody()) return 10;
            char got[64] = {};
            errno = 0;
            ssize_t n = read_note(tp, got);
            if (n == 64 && std::strcmp(got, "the target's own bytes") == 0) return 0;
            return n == -1 && errno == EPERM ? 1 : n == -1 && errno == ENOSYS ? 11 : 12;
        });
        kit::ExitStatus st = reader.wait();
        release(go);
        EXPECT_TRUE(t.wait().ok());
        if (st.exited_with(11)) GTEST_SKIP() << "process_vm_readv is not available here (ENOSYS)";
        if (dumpable)
            EXPECT_TRUE(st.ok()) << "same user, dumpable: readable; " << st.describe();
        else
            EXPECT_TRUE(st.exited_with(1)) << "non-dumpable: EPERM; " << st.describe();
    }
}

// Yama's ptrace_scope 1 lets a process be read only by its ancestors (or one it
// named with PR_SET_PTRACER): a child reading its parent gets EPERM.
TEST(CrossMemory, UnderYamaScopeOneAChildReadingItsParentGetsEperm) {
    auto scope = kit::read_long_file("/proc/sys/kernel/yama/ptrace_scope");
    if (!scope) GTEST_SKIP() << "no Yama LSM here (/proc/sys/kernel/yama/ptrace_scope is missing)";
    if (*scope != 1) GTEST_SKIP() << "Yama ptrace_scope is " << *scope << ", not 1";
    if (kit::has_capability(19)) GTEST_SKIP() << "CAP_SYS_PTRACE bypasses Yama";
    std::strcpy(g_note, "the parent's bytes");
    const pid_t parent = ::getpid();
    kit::Child child = kit::spawn([parent] {
        char got[64] = {};
        errno = 0;
        return read_note(parent, got) == -1 && errno == EPERM ? 0 : 1;
    });
    EXPECT_TRUE(child.wait().ok())
        << "the child's process_vm_readv of its parent must fail with EPERM";
}
