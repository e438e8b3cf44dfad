// cond_ring.hpp — the layout of ring_condvar's ring in shared memory: eight
// slots and the monitor that guards them, one process-shared robust mutex and
// two process-shared condition variables. The locking is in ring_condvar.cpp.
#pragma once

#include <pthread.h>

#include <array>
#include <cstddef>

#include "ring_item.hpp"

namespace ch05 {

struct CondRing {
    pthread_mutex_t mutex;
    pthread_cond_t not_full;
    pthread_cond_t not_empty;
    std::size_t head;   // oldest item
    std::size_t count;  // items in the ring
    std::array<Item, kSlots> slots;
    int recoveries;  // how often a locker found the previous owner dead
};

}  // namespace ch05
