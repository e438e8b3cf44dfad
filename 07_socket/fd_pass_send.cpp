// fd_pass_send — sends three open file descriptors (a pipe's read end, a file,
// a memfd) to another, unrelated process with SCM_RIGHTS.
//
// Run:    ./fd_pass_recv &            (prints "listening on PATH")
//         ./fd_pass_send PATH
// Prints: the fd numbers it sent, then — after the receiver has read 3 bytes
//         from the file — this process's offset of that same file: it moved,
//         because both processes now share one open file description.
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "socket_addr.hpp"

int main(int argc, char** argv) {
    return kit::run(argc, argv, "PATH", [](auto args) {
        if (args.size() != 1) throw kit::UsageError{"expected the receiver's socket PATH"};
        const auto addr = ch07::unix_path(args[0]);

        int p[2];
        kit::check(::pipe2(p, O_CLOEXEC), "pipe2");
        kit::Fd pipe_read(p[0]), pipe_write(p[1]);
        kit::write_all(pipe_write.get(), std::as_bytes(std::span("through the pipe", 16)));

        // A regular file whose name is removed at once: only open descriptions keep it.
        const std::string file_path = kit::unique_temp_path("fdpass.txt");
        kit::Fd file(kit::check(
            ::open(file_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600), "open"));
        kit::check(::unlink(file_path.c_str()), "unlink");
        kit::write_all(file.get(), std::as_bytes(std::span("0123456789", 10)));
        kit::check(::lseek(file.get(), 2, SEEK_SET), "lseek");  // our offset: 2

        kit::Fd memfd(kit::check(::memfd_create("ipckit-fdpass", MFD_CLOEXEC), "memfd_create"));
        kit::write_all(memfd.get(), std::as_bytes(std::span("memfd contents", 14)));

        kit::Fd sock(kit::check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        kit::check(::connect(sock.get(), addr.get(), addr.len), "connect");

        // The fds travel as ancillary data; a stream socket needs at least one
        // byte of ordinary data to carry it. We send our numbers as that data.
        const std::array<int, 3> fds{pipe_read.get(), file.get(), memfd.get()};
        std::string numbers =
            std::to_string(fds[0]) + " " + std::to_string(fds[1]) + " " + std::to_string(fds[2]);
        iovec iov{numbers.data(), numbers.size()};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof fds)> control{};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof fds);
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof fds);
        kit::check(::sendmsg(sock.get(), &msg, MSG_NOSIGNAL), "sendmsg");
        std::printf("sender: sent fds %s (pipe read end, file at offset 2, memfd)\n",
                    numbers.c_str());

        // Wait for the receiver to finish with the file before looking at our offset.
        char done[8];
        std::size_t n = kit::read_full(sock.get(), std::as_writable_bytes(std::span(done)));
        off_t now = kit::check(::lseek(file.get(), 0, SEEK_CUR), "lseek");
        std::printf("sender: receiver said \"%.*s\"; my file offset is now %lld (was 2)\n", int(n),
                    done, static_cast<long long>(now));
        return 0;
    });
}
