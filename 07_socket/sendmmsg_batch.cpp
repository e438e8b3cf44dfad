// sendmmsg_batch — many datagrams per system call: sendmmsg() and recvmmsg()
// return how many messages they moved, each with its own length.
//
// Run:    ./sendmmsg_batch [COUNT]          default 8 datagrams
// Prints: one sendmmsg() call sending COUNT datagrams of different sizes over
//         a Unix datagram socketpair and the count it returned, then recvmmsg()
//         calls with room for 5 messages each: how many each returned and the
//         length of every message (boundaries kept, one msg_len per datagram).
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/wait.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "[COUNT]", [](auto args) {
        if (args.size() > 1) throw kit::unexpected(args[1]);
        const long count = args.empty() ? 8 : kit::parse_long(args[0], 1, 64);

        int sv[2];  // datagrams on a Unix socketpair: queued at once, in order, none lost
        kit::check(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        kit::Fd tx(sv[0]), rx(sv[1]);

        // Datagram i is i+1 bytes of the letter 'a'+i: its length tells which it is.
        std::vector<std::string> bodies;
        std::vector<iovec> out_iov(static_cast<std::size_t>(count));
        std::vector<mmsghdr> out(static_cast<std::size_t>(count));
        for (long i = 0; i < count; ++i) bodies.emplace_back(i + 1, static_cast<char>('a' + i));
        for (std::size_t i = 0; i < out.size(); ++i) {
            out_iov[i] = {bodies[i].data(), bodies[i].size()};
            out[i].msg_hdr.msg_iov = &out_iov[i];
            out[i].msg_hdr.msg_iovlen = 1;
        }
        int sent = kit::check(::sendmmsg(tx.get(), out.data(), static_cast<unsigned>(count), 0),
                              "sendmmsg");
        std::printf("sendmmsg(%ld messages) -> %d sent in one call\n", count, sent);

        constexpr unsigned kRoom = 5;
        std::array<std::array<char, 64>, kRoom> bufs{};
        long received = 0;
        while (received < sent) {
            std::array<iovec, kRoom> in_iov{};
            std::array<mmsghdr, kRoom> in{};
            for (unsigned i = 0; i < kRoom; ++i) {
                in_iov[i] = {bufs[i].data(), bufs[i].size()};
                in[i].msg_hdr.msg_iov = &in_iov[i];
                in[i].msg_hdr.msg_iovlen = 1;
            }
            if (!kit::wait_readable(rx.get())) throw kit::SysError(ETIMEDOUT, "poll");
            int n = kit::check(::recvmmsg(rx.get(), in.data(), kRoom, MSG_DONTWAIT, nullptr),
                               "recvmmsg");
            std::printf("recvmmsg(room for %u) -> %d messages, lengths", kRoom, n);
            for (int i = 0; i < n; ++i) std::printf(" %u", in[static_cast<std::size_t>(i)].msg_len);
            std::printf("\n");
            received += n;
        }
        return 0;
    });
}
