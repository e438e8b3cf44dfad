// Tests of chapter 03 (chapter03.*), containers: an IPC namespace (what a
// container gets) has its own System V queues, its own POSIX queue names and
// its own /proc/sys/fs/mqueue limits. Each test enters a new IPC namespace in
// a forked child; the test process stays where it was.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"
#include "kit/wait.hpp"

namespace {

// The child's exit status when the machine refuses a new IPC namespace.
constexpr int kRefused = 77;

// unshare(CLONE_NEWIPC) needs CAP_SYS_ADMIN; without it, a new user namespace
// (where the system allows unprivileged ones) grants that capability inside,
// once our ids are mapped in it (we become its root, so we may create queues
// and write its /proc/sys/fs/mqueue files). Returns 0, or the errno of the refusal.
void write_file(const std::string& path, const std::string& text) {
    kit::Fd fd(kit::check(::open(path.c_str(), O_WRONLY), "open"));
    kit::write_all(fd.get(), std::as_bytes(std::span(text)));
}
int enter_new_ipc_namespace() {
    if (::unshare(CLONE_NEWIPC) == 0) return 0;
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWIPC) == -1) return errno;
    try {
        write_file("/proc/self/setgroups", "deny");
        write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
        write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    } catch (const kit::SysError& e) {
        return e.err();
    }
    return 0;
}

// Text from the child (its report, or why the namespace was refused).
void say(int fd, const std::string& text) { kit::write_all(fd, std::as_bytes(std::span(text))); }
std::string heard(int fd) {
    std::string s;
    char c = 0;
    while (kit::wait_readable(fd) &&
           kit::read_full(fd, std::as_writable_bytes(std::span(&c, 1))) == 1 && c != '\n')
        s += c;
    return s;
}

// Runs fn() in a child process inside a new IPC namespace; where the machine
// refuses one, the child reports "refused: <why>" on report_fd and exits kRefused.
template <class Fn>
kit::Child spawn_in_new_ipc_namespace(int report_fd, Fn&& fn) {
    return kit::spawn([&]() -> int {
        if (int err = enter_new_ipc_namespace(); err != 0) {
            say(report_fd, std::string("refused: ") + std::strerror(err) + "\n");
            return kRefused;
        }
        return fn();
    });
}

struct KeyFile {
    kit::NameGuard path;
    key_t key = -1;
    explicit KeyFile(std::string_view what) : path(kit::unlink_guard(kit::unique_temp_path(what))) {
        kit::Fd(kit::check(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600), "open"));
        key = kit::check(::ftok(path.c_str(), 'M'), "ftok");
    }
};

long proc_long(const std::string& path) {
    auto v = kit::read_long_file(path);
    if (!v) throw kit::SysError(ENOENT, "read " + path);
    return *v;
}

}  // namespace

TEST(IpcNamespace, SystemVQueuesOnEitherSideAreInvisibleToTheOther) {
    KeyFile outer_key("ns-outer"), inner_key("ns-inner");
    const int outer = kit::check(::msgget(outer_key.key, IPC_CREAT | IPC_EXCL | 0600), "msgget");
    auto outer_guard = kit::msg_guard(outer);
    struct {
        long mtype;
        char text[8];
    } m{1, "outside"};
    kit::check(::msgsnd(outer, &m, 7, IPC_NOWAIT), "msgsnd");
    auto report = kit::make_pipe();
    auto go = kit::make_pipe();
    auto child = spawn_in_new_ipc_namespace(report.write.get(), [&] {
        errno = 0;
        const bool outer_missing = ::msgget(outer_key.key, 0) == -1 && errno == ENOENT;
        // The same key names a different, empty queue in here.
        const int same_key = ::msgget(outer_key.key, IPC_CREAT | IPC_EXCL | 0600);
        msqid_ds ds{};
        const bool fresh =
            same_key != -1 && ::msgctl(same_key, IPC_STAT, &ds) == 0 && ds.msg_qnum == 0;
        const bool inner_made = ::msgget(inner_key.key, IPC_CREAT | IPC_EXCL | 0600) != -1;
        say(report.write.get(), std::string("outer key: ") + (outer_missing ? "ENOENT" : "found") +
                                    ", same key anew: " + (fresh ? "empty" : "not made") +
                                    ", inner key: " + (inner_made ? "made" : "not made") + "\n");
        std::byte b{};
        (void)kit::wait_readable(go.read.get());  // stay inside while the parent looks
        (void)kit::read_full(go.read.get(), std::span(&b, 1));
        return 0;
    });
    const std::string line = heard(report.read.get());
    if (line.rfind("refused", 0) == 0) {
        EXPECT_TRUE(child.wait().exited_with(kRefused));
        GTEST_SKIP() << "no new IPC namespace here (unshare CLONE_NEWIPC, and with CLONE_NEWUSER): "
                     << line;
    }
    EXPECT_EQ(line, "outer key: ENOENT, same key anew: empty, inner key: made");
    errno = 0;
    const int seen = ::msgget(inner_key.key, 0);  // the inner queue, from outside
    auto leak_guard = kit::msg_guard(seen);       // -1: nothing to remove
    EXPECT_EQ(seen, -1);
    EXPECT_EQ(errno, ENOENT);
    say(go.write.get(), "x");
    EXPECT_TRUE(child.wait().ok());
    msqid_ds ds{};
    kit::check(::msgctl(outer, IPC_STAT, &ds), "msgctl(IPC_STAT)");
    EXPECT_EQ(ds.msg_qnum, 1u);  // the queue outside was never touched
}

TEST(IpcNamespace, PosixQueueNamesOnEitherSideAreInvisibleToTheOther) {
    const auto outer_name = kit::unique_posix_name("ns-outer");
    const auto inner_name = kit::unique_posix_name("ns-inner");
    auto outer_guard = kit::mq_unlink_guard(outer_name);
    auto inner_guard = kit::mq_unlink_guard(inner_name);  // only if it leaked out
    mq_attr attr{};
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = 64;
    kit::Fd outer(kit::check(
        static_cast<int>(::mq_open(outer_name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr)),
        "mq_open"));
    auto report = kit::make_pipe();
    auto go = kit::make_pipe();
    auto child = spawn_in_new_ipc_namespace(report.write.get(), [&] {
        errno = 0;
        const bool outer_missing =
            ::mq_open(outer_name.c_str(), O_RDONLY) == mqd_t(-1) && errno == ENOENT;
        const bool inner_made =
            ::mq_open(inner_name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr) != mqd_t(-1);
        say(report.write.get(), std::string("outer name: ") + (outer_missing ? "ENOENT" : "found") +
                                    ", inner name: " + (inner_made ? "made" : "not made") + "\n");
        std::byte b{};
        (void)kit::wait_readable(go.read.get());
        (void)kit::read_full(go.read.get(), std::span(&b, 1));
        return 0;
    });
    const std::string line = heard(report.read.get());
    if (line.rfind("refused", 0) == 0) {
        EXPECT_TRUE(child.wait().exited_with(kRefused));
        GTEST_SKIP() << "no new IPC namespace here (unshare CLONE_NEWIPC, and with CLONE_NEWUSER): "
                     << line;
    }
    EXPECT_EQ(line, "outer name: ENOENT, inner name: made");
    errno = 0;
    EXPECT_EQ(::mq_open(inner_name.c_str(), O_RDONLY), mqd_t(-1));  // the inner name, from outside
    EXPECT_EQ(errno, ENOENT);
    say(go.write.get(), "x");
    EXPECT_TRUE(child.wait().ok());
}

TEST(IpcNamespace, MqueueLimitsArePerNamespaceAndStartAtTheDefaults) {
    const std::string dir = "/proc/sys/fs/mqueue/";
    const long outer_max = proc_long(dir + "msg_max");
    const long outer_size = proc_long(dir + "msgsize_max");
    const long mine = outer_max == 7 ? 6 : 7;  // a value the outside does not have
    auto report = kit::make_pipe();
    auto go = kit::make_pipe();
    auto child = spawn_in_new_ipc_namespace(report.write.get(), [&] {
        std::string text = "fresh: msg_max=" + std::to_string(proc_long(dir + "msg_max")) +
                           " msgsize_max=" + std::to_string(proc_long(dir + "msgsize_max"));
        {
            std::ofstream w(dir + "msg_max");
            w << mine << '\n';
        }
        text += ", after writing " + std::to_string(mine) +
                ": msg_max=" + std::to_string(proc_long(dir + "msg_max")) + "\n";
        say(report.write.get(), text);
        std::byte b{};
        (void)kit::wait_readable(go.read.get());
        (void)kit::read_full(go.read.get(), std::span(&b, 1));
        return 0;
    });
    const std::string line = heard(report.read.get());
    if (line.rfind("refused", 0) == 0) {
        EXPECT_TRUE(child.wait().exited_with(kRefused));
        GTEST_SKIP() << "no new IPC namespace here (unshare CLONE_NEWIPC, and with CLONE_NEWUSER): "
                     << line;
    }
    // A new namespace starts with the kernel's defaults (mq_overview(7)), not
    // with the values outside, and a change inside stays inside.
    EXPECT_EQ(line, "fresh: msg_max=10 msgsize_max=8192, after writing " + std::to_string(mine) +
                        ": msg_max=" + std::to_string(mine));
    EXPECT_EQ(proc_long(dir + "msg_max"), outer_max);  // while the child's namespace lives
    EXPECT_EQ(proc_long(dir + "msgsize_max"), outer_size);
    say(go.write.get(), "x");
    EXPECT_TRUE(child.wait().ok());
}

// What an IPC namespace does not isolate: POSIX shared memory lives in the
// /dev/shm mount, so a container shares it exactly when it shares the mount
// (Docker's --ipc=host, --ipc=container:X, or a volume on /dev/shm).
TEST(IpcNamespace, PosixSharedMemoryIsAFileInTheDevShmMountSoANewIpcNamespaceStillSeesIt) {
    const auto name = kit::unique_posix_name("ns-shm");
    auto guard = kit::shm_unlink_guard(name);
    kit::Fd shm(kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open"));
    const std::string text = "outside";
    kit::write_all(shm.get(), std::as_bytes(std::span(text)));
    auto report = kit::make_pipe();
    auto child = spawn_in_new_ipc_namespace(report.write.get(), [&] {
        errno = 0;
        int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
        if (fd == -1) {
            say(report.write.get(), std::string("shm_open: ") + std::strerror(errno) + "\n");
            return 1;
        }
        char buf[16] = {};
        const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        say(report.write.get(),
            "read: " + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) + "\n");
        return 0;
    });
    const std::string line = heard(report.read.get());
    if (line.rfind("refused", 0) == 0) {
        EXPECT_TRUE(child.wait().exited_with(kRefused));
        GTEST_SKIP() << "no new IPC namespace here (unshare CLONE_NEWIPC, and with CLONE_NEWUSER): "
                     << line;
    }
    EXPECT_EQ(line, "read: outside");
    EXPECT_TRUE(child.wait().ok());
}
