// socket_addr.hpp — the address layouts this chapter's programs fill in.
//
// Data only: a sockaddr_un for a path or an abstract name, a sockaddr_in for
// an IPv4 address. No system call lives here; every program calls socket(),
// bind(), connect(), accept() and getsockname() itself.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "kit/check.hpp"

namespace ch07 {

// A Unix-domain address and the length to pass to bind()/connect().
struct UnixAddress {
    sockaddr_un addr{};
    socklen_t len = 0;
    [[nodiscard]] const sockaddr* get() const noexcept {
        return reinterpret_cast<const sockaddr*>(&addr);
    }
};

// sun_path is a fixed 108-byte array: a path needs its terminating NUL too,
// so 107 characters is the longest that fits.
inline constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;

// A filesystem path ("/tmp/x.sock"). Longer paths do not fit: refuse them
// rather than let the kernel bind a silently truncated name.
[[nodiscard]] inline UnixAddress unix_path(std::string_view path) {
    if (path.empty() || path.size() > kMaxUnixPath)
        throw kit::UsageError{"socket path must be 1.." + std::to_string(kMaxUnixPath) +
                              " bytes, got " + std::to_string(path.size())};
    UnixAddress a;
    a.addr.sun_family = AF_UNIX;
    std::memcpy(a.addr.sun_path, path.data(), path.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return a;
}

// A Linux abstract name: sun_path starts with '\0' and the name is exactly the
// bytes covered by len — no terminating NUL, no file.
[[nodiscard]] inline UnixAddress unix_abstract(std::string_view name) {
    if (name.empty() || name.size() > kMaxUnixPath)
        throw kit::UsageError{"abstract name must be 1.." + std::to_string(kMaxUnixPath) +
                              " bytes"};
    UnixAddress a;
    a.addr.sun_family = AF_UNIX;
    std::memcpy(a.addr.sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return a;
}

// An IPv4 address "a.b.c.d" and port (0: let bind() pick a free one).
[[nodiscard]] inline sockaddr_in inet4(std::string_view ip, unsigned short port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (::inet_pton(AF_INET, std::string(ip).c_str(), &a.sin_addr) != 1)
        throw kit::UsageError{"not an IPv4 address: '" + std::string(ip) + "'"};
    return a;
}

}  // namespace ch07
