// kit/seccomp.hpp — proving that a stretch of code makes no system call.
//
// A seccomp filter that allows exit_group only: any other system call either
// raises SIGSYS (a handler can read which call from si_syscall) or kills the
// process with SIGSYS. A measuring instrument, not a sandbox: it does not check
// seccomp_data.arch. Install it in a forked child, never in a test process.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <array>
#include <cerrno>
#include <cstddef>

namespace kit {

enum class OnSyscall { trap, kill };

// Installs the filter in the calling process. Returns 0, or the errno of the
// step that failed (a container may refuse seccomp). Makes no allocation, so
// it is safe right after fork.
[[nodiscard]] inline int forbid_system_calls(OnSyscall action) noexcept {
    const unsigned deny = action == OnSyscall::trap ? SECCOMP_RET_TRAP : SECCOMP_RET_KILL_PROCESS;
    std::array<sock_filter, 4> code{{
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, deny),
    }};
    sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
    // no_new_privs lets a process without CAP_SYS_ADMIN install a filter.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) return errno;
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) return errno;
    return 0;
}

}  // namespace kit
