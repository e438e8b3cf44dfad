// fifo_request.hpp — the request a fifo_client writes into the server's
// well-known FIFO. Fixed size and at most PIPE_BUF bytes, so each request is
// one atomic write: requests from many clients never mix, and the server can
// read them one sizeof(Request) at a time.
#pragma once

#include <limits.h>
#include <sys/types.h>

#include <string>

namespace ch02 {

struct Request {
    pid_t pid;             // who asks
    char reply_path[200];  // the client's own FIFO for the answer
    char text[256];        // what to answer (the server upper-cases it)
};
static_assert(sizeof(Request) <= PIPE_BUF, "a request must be one atomic write");

// Each client's reply FIFO sits next to the server's: "<request path>.<pid>".
inline std::string reply_path_for(const std::string& request_path, pid_t pid) {
    return request_path + "." + std::to_string(pid);
}

}  // namespace ch02
