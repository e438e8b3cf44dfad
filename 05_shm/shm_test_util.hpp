// shm_test_util.hpp — helpers for this chapter's tests: mappings and System V
// attachments that undo themselves, one-byte "your turn" messages with a
// bounded wait, and the process-shared mutex the race and ring tests share.
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <span>
#include <utility>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/wait.hpp"

namespace ch05::test {

inline constexpr std::size_t kPage = 4096;
inline void* const kShmatFailed = reinterpret_cast<void*>(-1);

// An mmap()ed region, unmapped when the test ends.
class Mapping {
public:
    Mapping(std::size_t size, int prot, int flags, int fd = -1)
        : size_(size),
          p_(kit::check(::mmap(nullptr, size, prot, flags, fd, 0), MAP_FAILED, "mmap")) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { ::munmap(p_, size_); }
    [[nodiscard]] void* get() const { return p_; }
    [[nodiscard]] char* chars() const { return static_cast<char*>(p_); }
    template <class T>
    [[nodiscard]] T& as() const {
        return *static_cast<T*>(p_);
    }

private:
    std::size_t size_;
    void* p_;
};

// MAP_SHARED | MAP_ANONYMOUS: shared with every child forked after it.
[[nodiscard]] inline Mapping shared_anon(std::size_t size = kPage) {
    return Mapping(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
}

// One shared T.
template <class T>
class SharedAnon {
public:
    SharedAnon() : m_(sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS) {}
    T& operator*() const { return m_.as<T>(); }
    T* operator->() const { return &m_.as<T>(); }

private:
    Mapping m_;
};

// A System V attachment, detached when the test ends.
class Attachment {
public:
    explicit Attachment(int id, int flags = 0)
        : p_(kit::check(::shmat(id, nullptr, flags), kShmatFailed, "shmat")) {}
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;
    ~Attachment() { detach(); }
    void detach() {
        if (p_) ::shmdt(std::exchange(p_, nullptr));
    }
    [[nodiscard]] char* chars() const { return static_cast<char*>(p_); }

private:
    void* p_;
};

[[nodiscard]] inline shmid_ds stat_segment(int id) {
    shmid_ds ds{};
    kit::check(::shmctl(id, IPC_STAT, &ds), "shmctl");
    return ds;
}

// A key no segment uses yet (IPC_EXCL refuses one that exists).
[[nodiscard]] inline int create_with_fresh_key(key_t& key) {
    for (key = static_cast<key_t>(0x05100000 + ::getpid() * 16);; ++key) {
        int id = ::shmget(key, kPage, IPC_CREAT | IPC_EXCL | 0600);
        if (id != -1 || errno != EEXIST) return kit::check(id, "shmget");
    }
}

// The object behind an fd from shm_open, created with `size` bytes.
[[nodiscard]] inline kit::Fd create_posix(const kit::NameGuard& name, off_t size) {
    kit::Fd fd(kit::check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open"));
    kit::check(::ftruncate(fd.get(), size), "ftruncate");
    return fd;
}

// One byte: "your turn". Waiting is bounded, so a dead peer fails the test.
inline void go(const kit::Fd& fd) { kit::write_all(fd.get(), std::as_bytes(std::span("g", 1))); }
[[nodiscard]] inline bool await(const kit::Fd& fd) {
    std::array<std::byte, 1> b{};
    return kit::wait_readable(fd.get()) && kit::read_full(fd.get(), b) == 1;
}

// A child that dies of a signal should die of that signal, also under
// AddressSanitizer (which would otherwise catch SIGSEGV/SIGBUS and exit 1).
inline void default_action(int sig) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    kit::check(::sigaction(sig, &sa, nullptr), "sigaction");
}

// A PTHREAD_PROCESS_SHARED mutex, optionally robust, in memory the caller maps.
inline void init_shared_mutex(pthread_mutex_t& m, bool robust = false) {
    pthread_mutexattr_t attr;
    kit::check_err(::pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    kit::check_err(::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                   "pthread_mutexattr_setpshared");
    if (robust)
        kit::check_err(::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
                       "pthread_mutexattr_setrobust");
    kit::check_err(::pthread_mutex_init(&m, &attr), "pthread_mutex_init");
    ::pthread_mutexattr_destroy(&attr);
}

}  // namespace ch05::test
