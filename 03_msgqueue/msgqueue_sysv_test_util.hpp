// msgqueue_sysv_test_util.hpp — what the System V queue tests share: a fresh
// private queue with its guard, and small send/receive/stat steps.
#pragma once

#include <gtest/gtest.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"

namespace ch03::test {

struct Msg {
    long mtype;
    char mtext[64];
};

// A fresh private queue, removed when the guard goes out of scope.
[[nodiscard]] inline kit::SysvGuard new_queue() {
    return kit::msg_guard(kit::check(::msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget"));
}

inline void send(int id, long type, std::string_view text, int flags = 0) {
    Msg m{type, {}};
    std::memcpy(m.mtext, text.data(), text.size());
    kit::check(::msgsnd(id, &m, text.size(), flags), "msgsnd");
}

// Sends the messages from a child process that exits before the caller goes on.
inline void send_from_child(int id, std::vector<std::pair<long, std::string>> msgs) {
    auto c = kit::spawn([&] {
        for (const auto& [type, text] : msgs) send(id, type, text);
    });
    ASSERT_TRUE(c.wait().ok());
}

// "type:text" of one message received with msgtyp/flags (never blocking), or "ENOMSG".
inline std::string take(int id, long msgtyp, int flags = 0) {
    Msg m{};
    ssize_t n = ::msgrcv(id, &m, sizeof m.mtext, msgtyp, flags | IPC_NOWAIT);
    if (n == -1 && errno == ENOMSG) return "ENOMSG";
    kit::check(n, "msgrcv");
    return std::to_string(m.mtype) + ":" + std::string(m.mtext, static_cast<std::size_t>(n));
}

inline msqid_ds stat_queue(int id) {
    msqid_ds ds{};
    kit::check(::msgctl(id, IPC_STAT, &ds), "msgctl(IPC_STAT)");
    return ds;
}

inline long proc_long(const std::string& path) {
    auto v = kit::read_long_file(path);
    if (!v) throw kit::SysError(ENOENT, "read " + path);
    return *v;
}

}  // namespace ch03::test
