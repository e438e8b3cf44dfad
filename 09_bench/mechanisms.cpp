// mechanisms.cpp — every row ipc_bench measures, in table order, with ipc-bench's (note 000's)
// published figure beside the row it corresponds to (goldsborough/ipc-bench, other hardware).
#include <array>

#include "bench.hpp"

namespace bench {
namespace {

// name, label, ipc-bench row, ipc-bench 100 B, ipc-bench 1 KiB, fixed size, streams, reference, needs 2 CPUs, make
const std::array kMechanisms = {
    Mechanism{"pipe", "pipe", "Pipes", 162'441, 155'404, 0, true, false, false, make_pipe},
    Mechanism{"fifo", "FIFO", "FIFOs (named pipes)", 265'823, 254'880, 0, true, false, false, make_fifo},
    Mechanism{"sysv-mq", "System V message queue", "Message Queues", 232'253, 213'796, 0, true, false, false, make_sysv_mq},
    Mechanism{"posix-mq", "POSIX message queue", "", 0, 0, 0, true, false, false, make_posix_mq},
    Mechanism{"unix-stream", "Unix stream socket", "Domain sockets", 130'372, 127'582, 0, true, false, false, make_unix_stream},
    Mechanism{"unix-dgram", "Unix datagram socket", "", 0, 0, 0, true, false, false, make_unix_dgram},
    Mechanism{"socketpair", "socketpair (stream)", "", 0, 0, 0, true, false, false, make_socketpair},
    Mechanism{"tcp", "TCP loopback, TCP_NODELAY", "Internet sockets (TCP)", 70'221, 67'901, 0, true, false, false, make_tcp},
    Mechanism{"udp", "UDP loopback (credits)", "", 0, 0, 0, true, false, false, make_udp},
    Mechanism{"shm-sem", "shm + POSIX semaphores", "", 0, 0, 0, true, false, false, make_shm_sem},
    Mechanism{"shm-ring", "shm ring, spin then futex", "Shared Memory", 4'702'557, 1'659'291, 0, true, false, false, make_shm_ring},
    Mechanism{"mmap-file", "mmap'ed file ring", "Memory-Mapped Files", 5'338'860, 1'701'759, 0, true, false, false, make_mmap_file},
    Mechanism{"rt-signal", "RT signal, sigqueue (8 B)", "Unix Signals", 0, 0, 8, true, false, false, make_rt_signal},
    Mechanism{"eventfd", "eventfd (8 B, wake-up)", "", 0, 0, 8, false, false, false, make_eventfd},
    Mechanism{"cache-line", "cache-line ping-pong (8 B)", "", 0, 0, 8, false, true, true, make_cache_line},
    Mechanism{"memcpy", "memcpy, 64 MiB buffer", "", 0, 0, 0, true, true, false, nullptr},
};

}  // namespace

std::span<const Mechanism> mechanisms() { return kMechanisms; }

const Mechanism* find_mechanism(std::string_view name) {
    for (const auto& m : kMechanisms)
        if (m.name == name) return &m;
    return nullptr;
}

}  // namespace bench
