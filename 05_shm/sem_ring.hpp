// sem_ring.hpp — the layout of ring_semaphores' ring in shared memory: eight
// slots, two indices and the three POSIX semaphores that guard them. The
// waits and posts are in ring_semaphores.cpp.
#pragma once

#include <semaphore.h>

#include <array>
#include <cstddef>

#include "ring_item.hpp"

namespace ch05 {

struct SemRing {
    sem_t empty;       // free slots: starts at kSlots
    sem_t full;        // filled slots: starts at 0
    sem_t mutex;       // 1 = nobody is moving an index
    std::size_t head;  // next slot to take
    std::size_t tail;  // next slot to fill
    std::array<Item, kSlots> slots;
};

}  // namespace ch05
