// msg_protocol.hpp — what msg_sender and msg_receiver must agree on to meet:
// the message layout and the ftok() project byte. Two unrelated programs
// share no memory, only this header and the key file named on the command line.
#pragma once

namespace ch03 {

// The kernel's only header is the type; everything after it is payload.
struct Message {
    long mtype;  // must be > 0
    char mtext[256];
};

inline constexpr int kProjectId = 'M';  // same file + same byte = same key

}  // namespace ch03
