// fifo_no_disk.cpp — a FIFO's name lives in the file system; its data never
// does. Bytes written into a FIFO wait in a kernel buffer (the same one a
// pipe uses): stat() on the name still shows size 0 and no blocks. When the
// last process closes it, the unread bytes are gone; the name stays until
// unlink().
//
// Run:    ./fifo_no_disk
// Prints: wrote 4000 bytes; FIONREAD: 4000; stat: FIFO, st_size 0, st_blocks 0
//         closed both ends, reopened: 0 bytes left; the name still exists: yes
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"

namespace {

int queued(int fd) {
    int n = 0;
    kit::check(::ioctl(fd, FIONREAD, &n), "ioctl FIONREAD");
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    return kit::run(argc, argv, "", [](auto args) {
        kit::no_arguments(args);
        auto name = kit::unlink_guard(kit::unique_temp_path("nodisk.fifo"));
        kit::check(::mkfifo(name.c_str(), 0600), "mkfifo");
        {
            // Non-blocking read open first, so the write open finds a reader.
            kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
            kit::Fd w(kit::check(::open(name.c_str(), O_WRONLY), "open"));
            std::vector<char> data(4000, 'd');
            kit::write_all(w.get(), std::as_bytes(std::span(data)));

            struct stat st {};
            kit::check(::stat(name.c_str(), &st), "stat");
            std::printf("wrote %zu bytes; FIONREAD: %d; stat: %s, st_size %lld, st_blocks %lld\n",
                        data.size(), queued(r.get()), S_ISFIFO(st.st_mode) ? "FIFO" : "not a FIFO",
                        static_cast<long long>(st.st_size), static_cast<long long>(st.st_blocks));
        }  // both ends closed, 4000 bytes unread

        kit::Fd r(kit::check(::open(name.c_str(), O_RDONLY | O_NONBLOCK), "open"));
        char c;
        ssize_t n = kit::check(::read(r.get(), &c, 1), "read");  // 0: empty and no writer
        struct stat st {};
        const bool exists = ::stat(name.c_str(), &st) == 0;
        std::printf("closed both ends, reopened: %zd bytes left; the name still exists: %s\n", n,
                    exists ? "yes" : "no");
        return 0;  // the guard unlinks the name
    });
}
