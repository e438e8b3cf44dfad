// kit/fd.hpp — an owning file descriptor, and loops that finish a read or write.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <utility>

#include "kit/check.hpp"

namespace kit {

// Owns one file descriptor; closes it on destruction. Move-only.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
    // Gives up ownership without closing.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    // Closes the current descriptor (if any) and owns fd instead.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);  // close() errors on a pipe/socket carry no data loss
        fd_ = fd;
    }
    // Closes now and reports a failure (use where close() can lose data).
    void close() {
        int fd = std::exchange(fd_, -1);
        if (fd >= 0) check(::close(fd), "close");
    }

private:
    int fd_ = -1;
};

// Both ends of a pipe, owned. For tests and helpers; lesson programs call
// pipe() themselves so the reader sees it.
struct Pipe {
    Fd read;
    Fd write;
};

[[nodiscard]] inline Pipe make_pipe(int flags = O_CLOEXEC) {
    int fds[2];
    check(::pipe2(fds, flags), "pipe2");
    return {Fd(fds[0]), Fd(fds[1])};
}

// write() until every byte is written (pipes and sockets may take part of a
// buffer), retrying EINTR. Throws SysError on failure.
inline void write_all(int fd, std::span<const std::byte> data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n == -1 && errno == EINTR) continue;
        check(n, "write");
        data = data.subspan(static_cast<std::size_t>(n));
    }
}

// read() until buf is full or EOF, retrying EINTR. Returns the bytes read
// (less than buf.size() only at EOF).
[[nodiscard]] inline std::size_t read_full(int fd, std::span<std::byte> buf) {
    std::size_t got = 0;
    while (got < buf.size()) {
        ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
        if (n == -1 && errno == EINTR) continue;
        check(n, "read");
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return got;
}

}  // namespace kit
