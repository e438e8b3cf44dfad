// doctor — the limits and features that decide whether the lessons can run here.
//
//   ./build/dev/tools/doctor
//
// Prints each limit with where it comes from, probes each kind of IPC object
// (creates one and removes it at once), and ends with a WARN line for anything
// that would make a lesson's tests skip or fail. Exit 0 unless a probe could
// not even be attempted; warnings do not fail.
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"

namespace {

std::vector<std::string> warnings;

void row(const char* what, const std::string& value, const char* source) {
    std::printf("  %-28s %-22s %s\n", what, value.c_str(), source);
}

std::optional<long> limit(const char* what, const std::string& path) {
    auto v = kit::read_long_file(path);
    row(what, v ? std::to_string(*v) : "unreadable", path.c_str());
    return v;
}

// For values too large for a long (shmmax) or with several fields (sem).
void text_limit(const char* what, const std::string& path) {
    auto text = kit::read_text_file(path);
    std::string v = text ? text->substr(0, text->find('\n')) : "unreadable";
    for (auto& c : v)
        if (c == '\t') c = ' ';
    row(what, v, path.c_str());
}

std::string rlim(int resource) {
    rlimit r{};
    kit::check(::getrlimit(resource, &r), "getrlimit");
    return r.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(r.rlim_cur);
}

// Creates one object of a kind and removes it at once; prints ok or the error.
void probe(const char* what, int rc) {
    row(what, rc == 0 ? "ok" : std::string("FAILED: ") + std::strerror(errno), "probe");
    if (rc != 0) warnings.push_back(std::string(what) + " unavailable: lessons using it will skip");
}

int probe_sysv_msg() {
    int id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    return id == -1 ? -1 : ::msgctl(id, IPC_RMID, nullptr);
}
int probe_sysv_sem() {
    int id = ::semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    return id == -1 ? -1 : ::semctl(id, 0, IPC_RMID);
}
int probe_sysv_shm() {
    int id = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    return id == -1 ? -1 : ::shmctl(id, IPC_RMID, nullptr);
}
int probe_posix_mq() {
    auto name = kit::unique_posix_name("doctor-mq");
    mq_attr attr{};
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = 16;
    mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == mqd_t(-1)) return -1;
    ::mq_close(q);
    return ::mq_unlink(name.c_str());
}
int probe_posix_shm() {
    auto name = kit::unique_posix_name("doctor-shm");
    int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd == -1) return -1;
    ::close(fd);
    return ::shm_unlink(name.c_str());
}
int probe_named_sem() {
    auto name = kit::unique_posix_name("doctor-sem");
    sem_t* s = ::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED) return -1;
    ::sem_close(s);
    return ::sem_unlink(name.c_str());
}
int probe_pidfd() {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
    return fd == -1 ? -1 : ::close(fd);
}

// Runs fn in a child process, so that what it changes (namespaces) dies with
// it; true if the child exits 0.
template <class Fn>
bool in_child(Fn fn) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == -1) return false;
    if (pid == 0) ::_exit(fn() ? 0 : 1);
    int ws = 0;
    while (::waitpid(pid, &ws, 0) == -1 && errno == EINTR) {
    }
    return WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

// The initial namespaces have fixed inode numbers (include/linux/proc_ns.h):
// a different number means this process runs in a namespace of its own.
bool initial_namespace(const char* kind, unsigned long init_ino) {
    struct stat st {};
    if (::stat((std::string("/proc/self/ns/") + kind).c_str(), &st) != 0) return true;
    return st.st_ino == init_ino;
}

std::string status_field(const char* field) {
    auto status = kit::read_text_file("/proc/self/status").value_or("");
    auto pos = status.find(std::string(field) + ":");
    if (pos == std::string::npos) return "?";
    auto end = status.find('\n', pos);
    auto v = status.substr(pos + std::strlen(field) + 1, end - pos - std::strlen(field) - 1);
    auto b = v.find_first_not_of(" \t");
    return b == std::string::npos ? "" : v.substr(b);
}

// One premise of the lessons: whether it holds here, and what it decides.
void premise(const char* what, bool holds, const char* decides) {
    std::printf("  %-34s %-4s %s\n", what, holds ? "yes" : "no", decides);
}

bool mounted(const char* fstype) {
    auto mounts = kit::read_text_file("/proc/mounts").value_or("");
    return mounts.find(std::string(" ") + fstype + " ") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        utsname u{};
        kit::check(::uname(&u), "uname");
        std::printf("ipc-kit doctor\n  kernel                       %s %s\n", u.release, u.machine);

        std::printf("pipes (chapter 01/02)\n");
        auto pipe_max = limit("pipe-max-size", "/proc/sys/fs/pipe-max-size");
        if (pipe_max && *pipe_max < 65536)
            warnings.push_back("pipe-max-size below 65536: the F_SETPIPE_SZ lessons will skip");

        std::printf("System V message queues (chapter 03)\n");
        limit("msgmax (bytes per message)", "/proc/sys/kernel/msgmax");
        limit("msgmnb (bytes per queue)", "/proc/sys/kernel/msgmnb");
        limit("msgmni (queues)", "/proc/sys/kernel/msgmni");
        probe("msgget", probe_sysv_msg());

        std::printf("POSIX message queues (chapter 03)\n");
        auto mq_max = limit("msg_max (messages)", "/proc/sys/fs/mqueue/msg_max");
        limit("msgsize_max (bytes)", "/proc/sys/fs/mqueue/msgsize_max");
        limit("queues_max", "/proc/sys/fs/mqueue/queues_max");
        row("RLIMIT_MSGQUEUE", rlim(RLIMIT_MSGQUEUE), "getrlimit");
        row("/dev/mqueue mounted", mounted("mqueue") ? "yes" : "no",
            "/proc/mounts (queues work without it; it only lets ls show them)");
        if (mq_max && *mq_max < 10)
            warnings.push_back("mqueue msg_max below 10: POSIX queue lessons may fail with EINVAL");
        probe("mq_open", probe_posix_mq());

        std::printf("semaphores and shared memory (chapters 04/05)\n");
        text_limit("sem: MSL MNS OPM MNI", "/proc/sys/kernel/sem");
        text_limit("shmmax (bytes per segment)", "/proc/sys/kernel/shmmax");
        limit("shmmni (segments)", "/proc/sys/kernel/shmmni");
        struct statvfs vfs {};
        if (::statvfs("/dev/shm", &vfs) == 0) {
            row("/dev/shm size (MiB)", std::to_string(vfs.f_blocks * vfs.f_frsize >> 20),
                "statvfs");
            row("/dev/shm free (MiB)", std::to_string(vfs.f_bavail * vfs.f_frsize >> 20),
                "statvfs");
            if ((vfs.f_bavail * vfs.f_frsize >> 20) < 64)
                warnings.push_back(
                    "less than 64 MiB free in /dev/shm: shared-memory lessons may fail");
        } else {
            row("/dev/shm", std::string("FAILED: ") + std::strerror(errno), "statvfs");
            warnings.push_back("/dev/shm is not mounted: POSIX shared memory and semaphores fail");
        }
        probe("semget", probe_sysv_sem());
        probe("shmget", probe_sysv_shm());
        probe("shm_open", probe_posix_shm());
        probe("sem_open", probe_named_sem());

        std::printf("signals and processes (chapter 06)\n");
        row("RLIMIT_SIGPENDING", rlim(RLIMIT_SIGPENDING), "getrlimit");
        row("SIGRTMIN..SIGRTMAX", std::to_string(SIGRTMIN) + ".." + std::to_string(SIGRTMAX),
            "libc");
        probe("pidfd_open", probe_pidfd());

        std::printf("where this runs: the premises of the lessons (what works where)\n");
        premise("running as root (uid 0)", ::getuid() == 0,
                "root may remove others' objects; tests of refusals run as an ordinary user too");
        premise(
            "CAP_SYS_RESOURCE", kit::has_capability(kit::kCapSysResource),
            "without it, pipe sizes above pipe-max-size fail with EPERM (chapter01 PipeCapacity)");
        premise("CAP_SYS_ADMIN", kit::has_capability(21),
                "mounts and namespaces without a user namespace");
        premise("CAP_SYS_PTRACE", kit::has_capability(19),
                "reading any process's memory (chapter08 process_vm_readv)");
        premise("own user namespace", !initial_namespace("user", 0xEFFFFFFDUL),
                "a container or the container-like run");
        premise("own IPC namespace", !initial_namespace("ipc", 0xEFFFFFFFUL),
                "System V objects and POSIX queues are private to it (chapter03, chapter05)");
        premise("own PID namespace", !initial_namespace("pid", 0xEFFFFFFCUL),
                "pids in SO_PEERCRED and signals are translated (chapter06, chapter07)");
        const bool userns = in_child([] { return ::unshare(CLONE_NEWUSER) == 0; });
        premise("new user namespaces allowed", userns,
                "namespace lessons run as an ordinary user (chapter03, chapter05, chapter07 "
                "NoNetwork)");
        const bool netns = in_child([] { return ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0; });
        premise("new network namespaces allowed", netns,
                "chapter07 NoNetwork: Unix sockets without any network");
        if (!userns)
            warnings.push_back("new user namespaces are refused: the namespace lessons skip");
        const auto seccomp = status_field("Seccomp");
        premise("no seccomp filter on this process", seccomp == "0",
                "a filter (Docker's profile) may refuse calls such as unshare, io_uring_setup");
        const bool seccomp_ok =
            in_child([] { return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0; });
        premise("may install seccomp filters", seccomp_ok,
                "the \"no system call\" proofs (chapter04, chapter05)");
        auto ptrace_scope = kit::read_long_file("/proc/sys/kernel/yama/ptrace_scope");
        premise("Yama ptrace_scope 0 (or no Yama)", !ptrace_scope || *ptrace_scope == 0,
                "process_vm_readv of a process that is not your descendant (chapter08)");
        const bool uring = in_child([] {
            long fd = ::syscall(SYS_io_uring_setup, 1, nullptr);
            return fd != -1 ||
                   errno == EFAULT;  // EFAULT: the call exists, the bad pointer was refused
        });
        premise("io_uring available", uring, "chapter08 uring_splice");
        struct statvfs shm {};
        const bool big_shm =
            ::statvfs("/dev/shm", &shm) == 0 && (shm.f_blocks * shm.f_frsize >> 20) > 64;
        premise("/dev/shm larger than 64 MiB", big_shm,
                "at 64 MiB (Docker's default) a large mapping gets SIGBUS (chapter05 ShmLimits)");
        premise("mqueue file system mounted", mounted("mqueue"),
                "ls /dev/mqueue shows POSIX queues");
        auto ifaces = kit::read_text_file("/proc/net/dev").value_or("");
        const bool only_lo = ifaces.find("eth") == std::string::npos &&
                             ifaces.find("ens") == std::string::npos &&
                             ifaces.find("enp") == std::string::npos;
        premise("only the loopback interface", only_lo,
                "a network namespace of its own (container)");

        std::printf("files\n");
        row("RLIMIT_NOFILE", rlim(RLIMIT_NOFILE), "getrlimit");
        row("temp dir", kit::temp_dir(), "$TMPDIR or /tmp");

        for (const auto& w : warnings) std::printf("WARN: %s\n", w.c_str());
        std::printf("doctor: %zu warning(s)\n", warnings.size());
        return 0;
    });
}
