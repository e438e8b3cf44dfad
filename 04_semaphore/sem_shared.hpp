// sem_shared.hpp — what the chapter's programs share and is not their subject:
// memory that parent and children share (where the unnamed semaphores and
// mutexes live), reaping a child, and semctl's argument. sem_unnamed_fork.cpp
// shows the mmap call itself, because there it is the point.
#pragma once

#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstddef>

#include "kit/check.hpp"

namespace ch04 {

// semctl's fourth argument, which the caller must define (semctl(2)).
union semun {
    int val;                // SETVAL
    semid_ds* buf;          // IPC_STAT, IPC_SET
    unsigned short* array;  // GETALL, SETALL
};

// One T in anonymous MAP_SHARED memory, zero-filled: the same page in this
// process and in every child forked after it. Unmapped on scope exit; nothing
// of it is left in the system once every process that mapped it is gone.
template <class T>
class SharedMapping {
public:
    SharedMapping()
        : p_(static_cast<T*>(kit::check(
              ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              MAP_FAILED, "mmap"))) {}
    SharedMapping(const SharedMapping&) = delete;
    SharedMapping& operator=(const SharedMapping&) = delete;
    ~SharedMapping() { ::munmap(p_, sizeof(T)); }
    T* get() const noexcept { return p_; }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }

private:
    T* p_;
};

// Waits for the child `pid` (retrying EINTR): its exit status, or 128 + the
// signal that killed it, as a shell reports it.
inline int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1)
        if (errno != EINTR) throw kit::SysError(errno, "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace ch04
