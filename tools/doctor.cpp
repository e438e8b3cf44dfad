// doctor — the limits and features that decide whether the lessons can run here.
//
//   ./build/dev/common/doctor
//
// Prints each limit with where it comes from, probes each kind of IPC object
// (creates one and removes it at once), and ends with a WARN line for anything
// that would make a lesson's tests skip or fail. Exit 0 unless a probe could
// not even be attempted; warnings do not fail.
#include <fcntl.h>
#include <signal.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
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
        struct statvfs vfs{};
        if (::statvfs("/dev/shm", &vfs) == 0) {
            row("/dev/shm size (MiB)", std::to_string(vfs.f_blocks * vfs.f_frsize >> 20), "statvfs");
            row("/dev/shm free (MiB)", std::to_string(vfs.f_bavail * vfs.f_frsize >> 20), "statvfs");
            if ((vfs.f_bavail * vfs.f_frsize >> 20) < 64)
                warnings.push_back("less than 64 MiB free in /dev/shm: shared-memory lessons may fail");
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
        row("SIGRTMIN..SIGRTMAX", std::to_string(SIGRTMIN) + ".." + std::to_string(SIGRTMAX), "libc");
        probe("pidfd_open", probe_pidfd());

        std::printf("files\n");
        row("RLIMIT_NOFILE", rlim(RLIMIT_NOFILE), "getrlimit");
        row("temp dir", kit::temp_dir(), "$TMPDIR or /tmp");

        for (const auto& w : warnings) std::printf("WARN: %s\n", w.c_str());
        std::printf("doctor: %zu warning(s)\n", warnings.size());
        return 0;
    });
}
