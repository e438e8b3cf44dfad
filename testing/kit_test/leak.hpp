// kit_test/leak.hpp — what IPC objects exist now, and which are new since a snapshot.
//
// The leak guard (tools/leak_guard.cpp) snapshots before a test run and
// compares after it. Every System V object counts (they have no names to tell
// whose they are); named objects count when their name carries the kit's
// prefix: /dev/shm (POSIX shared memory and semaphores), /dev/mqueue (POSIX
// queues, where that filesystem is mounted), and FIFOs, sockets and files in
// the temp directory.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kit/names.hpp"

namespace kit::leak {

// One line per System V object in /proc/sysvipc/<kind>: "sysv-<kind> key=<key> id=<id>".
[[nodiscard]] inline std::vector<std::string> sysv_objects(const std::string& proc_file,
                                                           const std::string& kind) {
    std::vector<std::string> out;
    std::ifstream in(proc_file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        std::string key, id;
        if (ss >> key >> id) out.push_back("sysv-" + kind + " key=" + key + " id=" + id);
    }
    return out;
}

// Entries of dir whose names contain the kit's prefix, as full paths.
[[nodiscard]] inline std::vector<std::string> named_objects(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (it->path().filename().string().find(kNamePrefix) != std::string::npos)
            out.push_back(it->path().string());
    }
    return out;
}

// Everything the guard watches, sorted.
[[nodiscard]] inline std::vector<std::string> snapshot() {
    std::vector<std::string> all;
    auto add = [&all](std::vector<std::string> v) { all.insert(all.end(), v.begin(), v.end()); };
    add(sysv_objects("/proc/sysvipc/msg", "msg"));
    add(sysv_objects("/proc/sysvipc/sem", "sem"));
    add(sysv_objects("/proc/sysvipc/shm", "shm"));
    add(named_objects("/dev/shm"));
    add(named_objects("/dev/mqueue"));
    add(named_objects(temp_dir()));
    std::sort(all.begin(), all.end());
    return all;
}

// The objects in `after` that were not in `before` — the leaks, by name.
[[nodiscard]] inline std::vector<std::string> new_objects(std::vector<std::string> before,
                                                          std::vector<std::string> after) {
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    std::vector<std::string> leaked;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(leaked));
    return leaked;
}

}  // namespace kit::leak
