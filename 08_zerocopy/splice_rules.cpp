// splice_rules.cpp — the rules splice() and sendfile() enforce, each shown by
// the call that breaks it and the errno it gets on this kernel.
//
// Run:    ./splice_rules
// Prints: one line per rule: the call, what is wrong with it, and the result
//         ("-1 EINVAL", "-1 ESPIPE", or the byte count when it is allowed).
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

void show(const char* what, ssize_t rc) {
    if (rc == -1)
        std::printf("%-58s -1 %s\n", what, strerrorname_np(errno));
    else
        std::printf("%-58s %zd bytes\n", what, rc);
}

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        auto name = kit::unique_temp_path("splice-rules");
        kit::Fd file(kit::check(::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600), "open"));
        kit::check(::unlink(name.c_str()), "unlink");  // at once: even SIGKILL leaves no name
        kit::check(::write(file.get(), "0123456789", 10), "write");
        int p[2], s[2];
        kit::check(::pipe(p), "pipe");
        kit::check(::socketpair(AF_UNIX, SOCK_STREAM, 0, s), "socketpair");
        loff_t off = 0;

        show("splice(file -> socket): no pipe on either side",
             ::splice(file.get(), &off, s[0], nullptr, 10, 0));
        show("splice(file -> pipe): allowed", ::splice(file.get(), &off, p[1], nullptr, 10, 0));
        off = 0;
        show("splice(pipe with offset -> file): offset on the pipe side",
             ::splice(p[0], &off, file.get(), nullptr, 10, 0));
        show("splice(pipe -> socket): allowed", ::splice(p[0], nullptr, s[0], nullptr, 10, 0));

        kit::check(::write(p[1], "abc", 3), "write");
        show("sendfile(socket <- pipe): the input must be a file",
             ::sendfile(s[0], p[0], nullptr, 3));
        show("sendfile(file <- socket): the input must be a file",
             ::sendfile(file.get(), s[1], nullptr, 3));

        kit::check(::lseek(file.get(), 2, SEEK_SET), "lseek");
        off_t from = 5;
        show("sendfile(pipe <- file, &offset=5): allowed", ::sendfile(p[1], file.get(), &from, 3));
        std::printf("  ...the offset variable is now %ld, the file offset is still %ld\n",
                    long(from), long(kit::check(::lseek(file.get(), 0, SEEK_CUR), "lseek")));
        return 0;
    });
}
