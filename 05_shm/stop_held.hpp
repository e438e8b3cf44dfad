// stop_held.hpp — how the chapter's programs that create a name (a /dev/shm
// object, a file, a System V segment) treat SIGINT and SIGTERM: both stay
// blocked while the name exists, so a Ctrl-C that arrives mid-run waits until
// the name is removed, then stops the program as usual (killed by that
// signal). SIGKILL cannot be blocked: after kill -9 the name stays behind.
#pragma once

#include <signal.h>

#include "kit/check.hpp"

namespace ch05 {

// Declare it before the guard that removes the name: destroyed after it, it
// unblocks the two signals, and one that came meanwhile is delivered then.
class StopsHeld {
public:
    StopsHeld() {
        ::sigemptyset(&set_);
        ::sigaddset(&set_, SIGINT);
        ::sigaddset(&set_, SIGTERM);
        kit::check_err(::pthread_sigmask(SIG_BLOCK, &set_, nullptr), "pthread_sigmask");
    }
    StopsHeld(const StopsHeld&) = delete;
    StopsHeld& operator=(const StopsHeld&) = delete;
    ~StopsHeld() { ::pthread_sigmask(SIG_UNBLOCK, &set_, nullptr); }

private:
    sigset_t set_{};
};

}  // namespace ch05
