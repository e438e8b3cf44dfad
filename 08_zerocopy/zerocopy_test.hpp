// zerocopy_test.hpp — what the chapter's test files share: a temporary file
// removed however a test ends, small read helpers, a socket pair, the page
// size, and the running kernel's version.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

namespace ch08::test {

// A regular file in the temp directory, removed however the test ends.
struct TempFile {
    kit::NameGuard name;
    kit::Fd fd;
    explicit TempFile(std::string_view what)
        : name(kit::unlink_guard(kit::unique_temp_path(what))),
          fd(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600),
                        "open")) {}
};

// A file holding `n` copies of `c`.
inline TempFile file_of(std::size_t n, char c) {
    TempFile f("zc");
    std::string s(n, c);
    kit::write_all(f.fd.get(), std::as_bytes(std::span(s)));
    return f;
}

// Up to n bytes (fewer only at EOF).
inline std::string read_n(int fd, std::size_t n) {
    std::string s(n, '\0');
    s.resize(kit::read_full(fd, std::as_writable_bytes(std::span(s))));
    return s;
}

struct SocketPair {
    kit::Fd a, b;
};
inline SocketPair socket_pair(int type = SOCK_STREAM) {
    int sv[2];
    kit::check(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), "socketpair");
    return {kit::Fd(sv[0]), kit::Fd(sv[1])};
}

// One page: the unit of mapping, of SIGBUS, and of what a pipe buffer references.
inline const std::size_t kPage = std::size_t(::sysconf(_SC_PAGESIZE));

// True when the running kernel is at least major.minor (uname's release).
inline bool kernel_at_least(int major, int minor) {
    utsname u{};
    kit::check(::uname(&u), "uname");
    int ma = 0, mi = 0;
    if (std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
    return ma > major || (ma == major && mi >= minor);
}

}  // namespace ch08::test
