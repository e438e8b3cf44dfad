// smaps_dirty.hpp — how many kB of a mapping are dirty (modified in memory,
// not yet written back), as /proc/self/smaps reports it: the layout of that
// file, read. Used by mmap_msync.cpp and the tests to see msync() and write-back.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>

namespace ch08 {

// Shared_Dirty + Private_Dirty (kB) of this process's mapping that starts at
// addr. A file page mapped by one process only counts as Private_Dirty even
// under MAP_SHARED, hence the sum.
[[nodiscard]] inline long dirty_kb(const void* addr) {
    char start[32];
    std::snprintf(start, sizeof start, "%lx-", reinterpret_cast<unsigned long>(addr));
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    long kb = 0;
    while (std::getline(smaps, line)) {
        auto colon = line.find(':'), dash = line.find('-');
        if (dash != std::string::npos && (colon == std::string::npos || dash < colon))
            inside = line.rfind(start, 0) == 0;  // a mapping's header line
        else if (inside &&
                 (line.rfind("Shared_Dirty:", 0) == 0 || line.rfind("Private_Dirty:", 0) == 0))
            kb += std::stol(line.substr(colon + 1));
    }
    return kb;
}

}  // namespace ch08
