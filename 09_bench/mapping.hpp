// mapping.hpp — what the shared-memory transports share: a MAP_SHARED mapping owned by RAII,
// a file sized before anyone maps it, and the CPU's spin-wait hint.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

#include "kit/check.hpp"
#include "kit/fd.hpp"

namespace bench {

// A MAP_SHARED mapping of fd (or anonymous when fd < 0), unmapped on destruction.
class Mapping {
public:
    Mapping(int fd, std::size_t bytes)
        : bytes_(bytes),
          p_(kit::check(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                               MAP_SHARED | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0),
                        MAP_FAILED, "mmap")) {}
    ~Mapping() { ::munmap(p_, bytes_); }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    [[nodiscard]] std::byte* data() const { return static_cast<std::byte*>(p_); }

private:
    std::size_t bytes_;
    void* p_;
};

// A file of `bytes` bytes, sized with ftruncate() before anyone maps it.
inline kit::Fd sized(int fd, std::size_t bytes) {
    kit::Fd owned(fd);  // closed if ftruncate fails
    kit::check(::ftruncate(owned.get(), off_t(bytes)), "ftruncate");
    return owned;
}

inline void pause_cpu() { __builtin_ia32_pause(); }  // tells the core this is a spin-wait loop

}  // namespace bench
