// mechanisms.cpp — every row ipc_bench measures, in table order. Each row says what it is by
// name; what other benchmarks published is quoted in the report (report_text.cpp), not here.
#include <array>

#include "bench.hpp"

namespace bench {
namespace {

const std::array kMechanisms = {
    Mechanism{.name = "pipe", .label = "pipe", .make = make_pipe},
    // Data through a pipe, each hop woken by kill() + sigwait(): how ipc-bench's pipe row works.
    Mechanism{.name = "pipe-signal",
              .label = "pipe + signal wake-up",
              .streams = false,
              .make = make_pipe_signal},
    Mechanism{.name = "fifo", .label = "FIFO", .make = make_fifo},
    Mechanism{.name = "sysv-mq", .label = "System V message queue", .make = make_sysv_mq},
    Mechanism{.name = "posix-mq", .label = "POSIX message queue", .make = make_posix_mq},
    Mechanism{.name = "unix-stream", .label = "Unix stream socket", .make = make_unix_stream},
    Mechanism{.name = "unix-dgram", .label = "Unix datagram socket", .make = make_unix_dgram},
    Mechanism{.name = "socketpair", .label = "socketpair (stream)", .make = make_socketpair},
    Mechanism{.name = "tcp", .label = "TCP loopback, TCP_NODELAY", .make = make_tcp},
    Mechanism{.name = "udp", .label = "UDP loopback (credits)", .make = make_udp},
    Mechanism{.name = "shm-sem", .label = "shm + POSIX semaphores", .make = make_shm_sem},
    Mechanism{.name = "shm-ring", .label = "shm ring, spin then futex", .make = make_shm_ring},
    Mechanism{.name = "mmap-file", .label = "mmap'ed file ring", .make = make_mmap_file},
    Mechanism{.name = "rt-signal",
              .label = "RT signal, sigqueue (8 B)",
              .fixed_size = 8,
              .make = make_rt_signal},
    Mechanism{.name = "eventfd",
              .label = "eventfd (8 B, wake-up)",
              .fixed_size = 8,
              .streams = false,
              .make = make_eventfd},
    Mechanism{.name = "cache-line",
              .label = "cache-line ping-pong (8 B)",
              .fixed_size = 8,
              .streams = false,
              .reference = true,
              .needs_two_cpus = true,
              .make = make_cache_line},
    Mechanism{.name = "memcpy",
              .label = "memcpy, 64 MiB buffer",
              .reference = true},  // no make: one process
};

}  // namespace

std::span<const Mechanism> mechanisms() { return kMechanisms; }

const Mechanism* find_mechanism(std::string_view name) {
    for (const auto& m : kMechanisms)
        if (m.name == name) return &m;
    return nullptr;
}

}  // namespace bench
