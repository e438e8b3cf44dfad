// peers_way.hpp — the rows that published benchmarks also measure, and their minimal loop (the
// peers' way, peers_way.cpp): the same mechanism and size, the loop goldsborough's and rigtorp's
// ipc-bench write. ipc_bench measures it right before and right after the row's own ping-pong.
#pragma once

#include <memory>
#include <string_view>

#include "bench.hpp"

namespace bench {

// What the peers' way of a default row runs: the same mechanism, or for the shm ring
// goldsborough's shared memory (one buffer, a guard byte, pure spinning). Null: none.
[[nodiscard]] const Mechanism* peers_way_of(std::string_view mech);

std::unique_ptr<Link> make_shm_guard(std::size_t size);  // transports_shm.cpp

// A default row must reach at least this fraction of its peers' way (issue's bar; the report
// flags a row below it).
inline constexpr double kPeersBar = 0.95;

}  // namespace bench
