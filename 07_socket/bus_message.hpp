// bus_message.hpp — the one message format of the bus (bus_broker,
// bus_publish, bus_subscribe): a versioned, length-prefixed record that both
// sides check. Data layout and protocol only; the programs do the system calls.
//
//   offset 0  'B' 'U'          magic: this is a bus message
//          2  version          kVersion; anything else is refused
//          3  kind             'S' subscribe, 'P' publish, 'D' deliver, 'A' acknowledge
//          4  topic length     1 byte  (1..kMaxTopic)
//          5  body length      2 bytes, big-endian (0..kMaxBody)
//          7  topic, then body
//
// On SOCK_SEQPACKET one send() is one message, so the lengths do not frame
// the stream; they let the receiver check that what arrived is whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ch07 {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeader = 7;
inline constexpr std::size_t kMaxTopic = 64;
inline constexpr std::size_t kMaxBody = 4000;
inline constexpr std::size_t kMaxMessage = kHeader + kMaxTopic + kMaxBody;

struct Message {
    char kind = 0;
    std::string topic;
    std::string body;
};

// The bytes of one message; empty if the topic or body does not fit.
[[nodiscard]] inline std::string encode(const Message& m, std::uint8_t version = kVersion) {
    if (m.topic.empty() || m.topic.size() > kMaxTopic || m.body.size() > kMaxBody) return {};
    std::string out = {'B',
                       'U',
                       static_cast<char>(version),
                       m.kind,
                       static_cast<char>(m.topic.size()),
                       static_cast<char>(m.body.size() >> 8),
                       static_cast<char>(m.body.size() & 0xff)};
    return out + m.topic + m.body;
}

// The message in `bytes`, or nothing with the reason in *why.
[[nodiscard]] inline std::optional<Message> decode(std::string_view bytes, std::string* why) {
    auto refuse = [&](std::string reason) -> std::optional<Message> {
        *why = std::move(reason);
        return std::nullopt;
    };
    if (bytes.size() < kHeader || bytes[0] != 'B' || bytes[1] != 'U')
        return refuse("not a bus message");
    const auto version = static_cast<std::uint8_t>(bytes[2]);
    if (version != kVersion)
        return refuse("version " + std::to_string(version) + ", expected " +
                      std::to_string(kVersion));
    const std::size_t topic = static_cast<std::uint8_t>(bytes[4]);
    const std::size_t body = static_cast<std::size_t>(static_cast<std::uint8_t>(bytes[5])) << 8 |
                             static_cast<std::uint8_t>(bytes[6]);
    if (topic == 0 || topic > kMaxTopic || body > kMaxBody ||
        bytes.size() != kHeader + topic + body)
        return refuse("lengths do not match the " + std::to_string(bytes.size()) +
                      " bytes received");
    return Message{bytes[3], std::string(bytes.substr(kHeader, topic)),
                   std::string(bytes.substr(kHeader + topic))};
}

}  // namespace ch07
