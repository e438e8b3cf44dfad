// transports_msgqueue.cpp — System V and POSIX message queues (消息队列). One queue per
// direction. A queue takes messages of at most msgmax (System V, /proc/sys/kernel/msgmax) or
// mq_msgsize (POSIX, at most /proc/sys/fs/mqueue/msgsize_max) bytes; larger messages travel
// as several queue messages, in order.
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "bench.hpp"
#include "kit/check.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit/proc.hpp"

namespace bench {
namespace {

std::size_t limit_from(const char* path, std::size_t fallback) {
    return std::size_t(kit::read_long_file(path).value_or(long(fallback)));
}

class SysvEndpoint final : public Endpoint {
public:
    SysvEndpoint(int tx, int rx, std::size_t piece)
        : tx_(tx), rx_(rx), piece_(piece), buf_(sizeof(long) + piece) {}
    void send(std::span<const std::byte> msg) override {
        send_pieces(msg, piece_, [&](std::span<const std::byte> p) {
            const long type = 1;  // msgsnd wants a positive type first, then the bytes
            std::memcpy(buf_.data(), &type, sizeof type);
            std::memcpy(buf_.data() + sizeof type, p.data(), p.size());
            while (::msgsnd(tx_, buf_.data(), p.size(), 0) == -1) {
                if (errno != EINTR) throw kit::SysError(errno, "msgsnd");
            }
        });
    }
    void recv(std::span<std::byte> msg) override {
        for (std::size_t off = 0; off < msg.size();) {
            ssize_t n = ::msgrcv(rx_, buf_.data(), piece_, 0, 0);
            if (n == -1 && errno == EINTR) continue;
            kit::check(n, "msgrcv");
            if (std::size_t(n) > msg.size() - off)
                throw std::runtime_error("msgrcv: oversized piece");
            std::memcpy(msg.data() + off, buf_.data() + sizeof(long), std::size_t(n));
            off += std::size_t(n);
        }
    }

private:
    int tx_, rx_;
    std::size_t piece_;
    std::vector<std::byte> buf_;  // struct msgbuf: long mtype, then the text
};

// A System V queue cannot be removed once both children hold it, as the other transports'
// names are: IPC_RMID destroys it at once (msgsnd/msgrcv then fail with EINVAL, a blocked
// one with EIDRM). And a kill -9 of ipc_bench runs no destructor. So each Link starts a remover:
// a process of its own (no PR_SET_PDEATHSIG, Ctrl-C ignored) that blocks reading a pipe whose
// write end only the Link's users hold. The Link, ending normally, removes the queues itself and
// writes one byte: the remover exits. If instead the read returns EOF, every holder is gone
// without a word — ipc_bench was killed, and its children died with it — and the remover takes
// both queues out with IPC_RMID.
class SysvLink final : public Link {
public:
    explicit SysvLink(std::size_t size)
        : piece_(std::min(size, limit_from("/proc/sys/kernel/msgmax", 8192))) {
        ab_.emplace(kit::msg_guard(kit::check(::msgget(IPC_PRIVATE, 0600), "msgget")));
        ba_.emplace(kit::msg_guard(kit::check(::msgget(IPC_PRIVATE, 0600), "msgget")));
        kit::Pipe alive = kit::make_pipe();
        remover_ = kit::check(::fork(), "fork");
        if (remover_ == 0) {
            ::signal(SIGINT, SIG_IGN),
                ::signal(SIGHUP, SIG_IGN);    // a terminal's Ctrl-C reaches the whole group
            const int fd = alive.read.get();  // hold nothing else: no other pipe waits for our exit
            if (fd > 3) ::close_range(3, unsigned(fd) - 1, 0);
            ::close_range(unsigned(fd) + 1, ~0U, 0);
            char c;
            ssize_t n;
            while ((n = ::read(fd, &c, 1)) == -1 && errno == EINTR) {
            }
            if (n == 0) {  // EOF: nobody said goodbye
                ::msgctl(ab_->id(), IPC_RMID, nullptr);
                ::msgctl(ba_->id(), IPC_RMID, nullptr);
            }
            ::_exit(0);
        }
        alive_ = std::move(alive.write);
    }
    ~SysvLink() override {
        ab_.reset(), ba_.reset();  // IPC_RMID (the guards), then tell the remover and reap it
        const char done = 1;
        (void)!::write(alive_.get(), &done, 1);
        alive_.reset();
        int ws;
        while (::waitpid(remover_, &ws, 0) == -1 && errno == EINTR) {
        }
    }
    SysvLink(const SysvLink&) = delete;
    SysvLink& operator=(const SysvLink&) = delete;
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        if (role == Role::a) return std::make_unique<SysvEndpoint>(ab_->id(), ba_->id(), piece_);
        return std::make_unique<SysvEndpoint>(ba_->id(), ab_->id(), piece_);
    }

private:
    std::size_t piece_;
    std::optional<kit::SysvGuard> ab_, ba_;  // IPC_RMID by the parent when the cell ends
    pid_t remover_ = -1;
    kit::Fd alive_;  // the remover's pipe; every process of the cell inherits this end
};

class PosixEndpoint final : public Endpoint {
public:
    PosixEndpoint(mqd_t tx, mqd_t rx, std::size_t piece)
        : tx_(tx), rx_(rx), piece_(piece), buf_(piece) {}
    void send(std::span<const std::byte> msg) override {
        send_pieces(msg, piece_, [&](std::span<const std::byte> p) {
            while (::mq_send(tx_, reinterpret_cast<const char*>(p.data()), p.size(), 0) == -1) {
                if (errno != EINTR) throw kit::SysError(errno, "mq_send");
            }
        });
    }
    void recv(std::span<std::byte> msg) override {
        for (std::size_t off = 0; off < msg.size();) {
            // mq_receive needs a buffer of at least mq_msgsize; receive there, then place it.
            ssize_t n =
                ::mq_receive(rx_, reinterpret_cast<char*>(buf_.data()), buf_.size(), nullptr);
            if (n == -1 && errno == EINTR) continue;
            kit::check(n, "mq_receive");
            if (std::size_t(n) > msg.size() - off)
                throw std::runtime_error("mq_receive: oversized piece");
            std::memcpy(msg.data() + off, buf_.data(), std::size_t(n));
            off += std::size_t(n);
        }
    }

private:
    mqd_t tx_, rx_;  // owned by the Link; each child has its own copy of the descriptors
    std::size_t piece_;
    std::vector<std::byte> buf_;
};

// Both queues are opened in the parent and their names removed at once: queue descriptors are
// inherited through fork like file descriptors, so no name outlives the setup, even if the run
// is killed.
class PosixLink final : public Link {
public:
    explicit PosixLink(std::size_t size)
        : piece_(std::min(size, limit_from("/proc/sys/fs/mqueue/msgsize_max", 8192))) {
        mq_attr attr{};
        attr.mq_maxmsg =
            std::min(10L, kit::read_long_file("/proc/sys/fs/mqueue/msg_max").value_or(10));
        attr.mq_msgsize = long(piece_);
        for (mqd_t* q : {&ab_, &ba_}) {
            auto name = kit::mq_unlink_guard(kit::unique_posix_name("bench-mq"));
            if ((*q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600,
                                &attr)) == mqd_t(-1)) {
                const int err = errno;
                if (q != &ab_) ::mq_close(ab_);  // no destructor runs for a constructor that throws
                throw kit::SysError(err, "mq_open");
            }
        }
    }
    ~PosixLink() override {
        for (mqd_t q : {ab_, ba_})
            if (q != mqd_t(-1)) ::mq_close(q);
    }
    PosixLink(const PosixLink&) = delete;
    PosixLink& operator=(const PosixLink&) = delete;
    std::unique_ptr<Endpoint> open(Role role, pid_t) override {
        if (role == Role::a) return std::make_unique<PosixEndpoint>(ab_, ba_, piece_);
        return std::make_unique<PosixEndpoint>(ba_, ab_, piece_);
    }

private:
    mqd_t ab_ = mqd_t(-1), ba_ = mqd_t(-1);
    std::size_t piece_;
};

}  // namespace

std::unique_ptr<Link> make_sysv_mq(std::size_t size) { return std::make_unique<SysvLink>(size); }
std::unique_ptr<Link> make_posix_mq(std::size_t size) { return std::make_unique<PosixLink>(size); }

}  // namespace bench
