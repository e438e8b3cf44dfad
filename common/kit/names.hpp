// kit/names.hpp — unique names for named IPC objects, and guards that remove
// them when they go out of scope (also when a test fails half-way).
//
// Every name starts with "ipckit-<pid>-<n>-", so parallel test runs never
// collide and the leak guard can tell the kit's objects from anyone else's.
#pragma once

#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

namespace kit {

inline constexpr std::string_view kNamePrefix = "ipckit-";

// "ipckit-<pid>-<n>-<what>": unique within this process (counter) and across
// processes (pid).
[[nodiscard]] inline std::string unique_name(std::string_view what) {
    static std::atomic<unsigned> counter{0};
    return std::string(kNamePrefix) + std::to_string(::getpid()) + "-" +
           std::to_string(counter.fetch_add(1)) + "-" + std::string(what);
}

// "/ipckit-<pid>-<n>-<what>": the form shm_open, mq_open and sem_open expect.
[[nodiscard]] inline std::string unique_posix_name(std::string_view what) {
    std::string name = "/";  // appended, not "/" + ...: gcc 12 -O2 warns falsely (-Wrestrict)
    name += unique_name(what);
    return name;
}

// The directory for FIFOs and socket paths: $TMPDIR, else /tmp.
[[nodiscard]] inline std::string temp_dir() {
    const char* t = std::getenv("TMPDIR");
    return (t && *t) ? std::string(t) : std::string("/tmp");
}

// "<temp_dir>/ipckit-<pid>-<n>-<what>": a path for a FIFO or a socket.
[[nodiscard]] inline std::string unique_temp_path(std::string_view what) {
    return temp_dir() + "/" + unique_name(what);
}

// Removes a name on scope exit with one of the calls that take a name:
// unlink (FIFOs, socket paths, files), shm_unlink, mq_unlink, sem_unlink.
// A name that is already gone is not an error.
class NameGuard {
public:
    using Remover = int (*)(const char*);
    NameGuard(std::string name, Remover remove) : name_(std::move(name)), remove_(remove) {}
    NameGuard(NameGuard&& o) noexcept
        : name_(std::move(o.name_)), remove_(std::exchange(o.remove_, nullptr)) {}
    NameGuard& operator=(NameGuard&&) = delete;
    NameGuard(const NameGuard&) = delete;
    NameGuard& operator=(const NameGuard&) = delete;
    ~NameGuard() {
        if (remove_) remove_(name_.c_str());
    }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const char* c_str() const noexcept { return name_.c_str(); }
    // Keep the name (someone else removes it).
    void dismiss() noexcept { remove_ = nullptr; }

private:
    std::string name_;
    Remover remove_;
};

[[nodiscard]] inline NameGuard unlink_guard(std::string path) {
    return {std::move(path), ::unlink};
}
[[nodiscard]] inline NameGuard shm_unlink_guard(std::string name) {
    return {std::move(name), ::shm_unlink};
}
[[nodiscard]] inline NameGuard mq_unlink_guard(std::string name) {
    return {std::move(name), ::mq_unlink};
}
[[nodiscard]] inline NameGuard sem_unlink_guard(std::string name) {
    return {std::move(name), ::sem_unlink};
}

// Removes a System V object (IPC_RMID) on scope exit. An id that is already
// removed is not an error.
class SysvGuard {
public:
    enum class Kind { msg, sem, shm };
    SysvGuard(Kind kind, int id) noexcept : kind_(kind), id_(id) {}
    SysvGuard(SysvGuard&& o) noexcept : kind_(o.kind_), id_(std::exchange(o.id_, -1)) {}
    SysvGuard& operator=(SysvGuard&&) = delete;
    SysvGuard(const SysvGuard&) = delete;
    SysvGuard& operator=(const SysvGuard&) = delete;
    ~SysvGuard() {
        if (id_ < 0) return;
        switch (kind_) {
            case Kind::msg:
                ::msgctl(id_, IPC_RMID, nullptr);
                break;
            case Kind::sem:
                ::semctl(id_, 0, IPC_RMID);
                break;
            case Kind::shm:
                ::shmctl(id_, IPC_RMID, nullptr);
                break;
        }
    }
    [[nodiscard]] int id() const noexcept { return id_; }
    void dismiss() noexcept { id_ = -1; }

private:
    Kind kind_;
    int id_;
};

[[nodiscard]] inline SysvGuard msg_guard(int id) { return {SysvGuard::Kind::msg, id}; }
[[nodiscard]] inline SysvGuard sem_guard(int id) { return {SysvGuard::Kind::sem, id}; }
[[nodiscard]] inline SysvGuard shm_guard(int id) { return {SysvGuard::Kind::shm, id}; }

}  // namespace kit
