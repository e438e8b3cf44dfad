// Tests of chapter 07 for the minimal message bus (chapter07.Bus.*,
// chapter07.BusCrash.*): bus_broker, bus_subscribe and bus_publish as real
// processes meeting at an abstract SOCK_SEQPACKET name, and the one message
// schema (bus_message.hpp) both sides check.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "bus_message.hpp"
#include "kit/check.hpp"
#include "kit/child.hpp"
#include "kit/fd.hpp"
#include "kit/names.hpp"
#include "kit_test/program.hpp"
#include "socket_addr.hpp"
#include "socket_test_util.hpp"

using namespace ch07;
using kit::test::program_path;
using kit::test::run_program;

namespace {

struct Bus {
    std::string name = kit::unique_name("bus");
    kit::test::Running broker = start_program("bus_broker", {name});
};

kit::test::Running subscriber(const Bus& bus, const std::string& topic, int count) {
    kit::test::Running s = start_program("bus_subscribe", {bus.name, topic, std::to_string(count)});
    EXPECT_EQ(read_line(s.output.get()), "subscribed to " + topic);  // the broker has it now
    return s;
}

bool listed(const std::string& name) {
    return proc_net_unix().find(" @" + name + "\n") != std::string::npos;
}

}  // namespace

TEST(Bus, ASubscriberGetsEveryMessageOfItsTopicAndNoOther) {
    Bus bus;
    ASSERT_EQ(read_line(bus.broker.output.get()), "broker on @" + bus.name);
    kit::test::Running news = subscriber(bus, "news", 2);
    kit::test::Running weather = subscriber(bus, "weather", 1);
    auto p1 = run_program({program_path("bus_publish"), bus.name, "news", "one", "two"});
    EXPECT_EQ(p1.out,
              "published 'one' on news -> 1 subscriber(s)\n"
              "published 'two' on news -> 1 subscriber(s)\n")
        << p1.err;
    auto p2 = run_program({program_path("bus_publish"), bus.name, "weather", "rain"});
    EXPECT_EQ(p2.out, "published 'rain' on weather -> 1 subscriber(s)\n") << p2.err;
    EXPECT_EQ(read_rest(news.output.get()), "news: one\nnews: two\n");  // in order, nothing else
    EXPECT_EQ(read_rest(weather.output.get()), "weather: rain\n");
    EXPECT_TRUE(news.child.wait().ok());
    EXPECT_TRUE(weather.child.wait().ok());
}

TEST(BusCrash, ASubscriberKilledIsDroppedAndTheOthersStillReceive) {
    Bus bus;
    ASSERT_EQ(read_line(bus.broker.output.get()), "broker on @" + bus.name);
    kit::test::Running doomed = subscriber(bus, "news", 5);
    kit::test::Running survivor = subscriber(bus, "news", 1);
    ::kill(doomed.child.pid(), SIGKILL);
    EXPECT_TRUE(doomed.child.wait().killed_by(SIGKILL));
    auto p = run_program({program_path("bus_publish"), bus.name, "news", "still here"});
    EXPECT_TRUE(p.status.ok()) << p.err;
    EXPECT_EQ(p.out, "published 'still here' on news -> 1 subscriber(s)\n");  // only the living
    EXPECT_EQ(read_rest(survivor.output.get()), "news: still here\n");
    EXPECT_TRUE(survivor.child.wait().ok());
    const char broker = kit::process_state(bus.broker.child.pid());  // asleep or busy, not dead
    EXPECT_TRUE(broker == 'S' || broker == 'R') << "the broker must live on; state " << broker;
}

TEST(Bus, TheBrokerRefusesAMessageOfAnotherVersionAndDisconnectsItsSender) {
    Bus bus;
    ASSERT_EQ(read_line(bus.broker.output.get()), "broker on @" + bus.name);
    const auto addr = ch07::unix_abstract(bus.name);
    auto c = unix_socket(SOCK_SEQPACKET);
    ASSERT_EQ(::connect(c.get(), addr.get(), addr.len), 0);
    const std::string future = encode({'P', "news", "from the future"}, kVersion + 1);
    ASSERT_TRUE(send_str(c.get(), future));
    EXPECT_EQ(recv_once(c.get()), "");  // no acknowledgement: the broker closed the connection
    const std::string said = read_line(bus.broker.output.get());
    EXPECT_NE(said.find(": refused: version 2, expected 1"), std::string::npos) << said;
    // A well-formed client is served as before.
    kit::test::Running s = subscriber(bus, "news", 1);
    auto p = run_program({program_path("bus_publish"), bus.name, "news", "v1"});
    EXPECT_EQ(p.out, "published 'v1' on news -> 1 subscriber(s)\n") << p.err;
}

TEST(Bus, TheSchemaRefusesAnotherVersionAWrongMagicAndLengthsThatDoNotMatch) {
    std::string why;
    const std::string good = encode({'P', "news", "hello"});
    ASSERT_EQ(good.size(), kHeader + 4 + 5);
    auto m = decode(good, &why);
    ASSERT_TRUE(m) << why;
    EXPECT_EQ(m->kind, 'P');
    EXPECT_EQ(m->topic, "news");
    EXPECT_EQ(m->body, "hello");
    EXPECT_FALSE(decode(encode({'P', "news", "hello"}, kVersion + 1), &why));
    EXPECT_EQ(why, "version 2, expected 1");
    std::string bad_magic = good;
    bad_magic[0] = 'X';
    EXPECT_FALSE(decode(bad_magic, &why));
    EXPECT_FALSE(decode(good.substr(0, good.size() - 1), &why));  // one byte short
    EXPECT_NE(why.find("lengths do not match"), std::string::npos);
    EXPECT_FALSE(decode(good + "!", &why));  // one byte too many
    EXPECT_EQ(encode({'P', "", "x"}), "");   // no topic: not encodable
    EXPECT_EQ(encode({'P', "t", std::string(kMaxBody + 1, 'x')}), "");
}

TEST(Bus, TheSubscriberRefusesAMessageOfAnotherVersion) {
    // A fake broker that speaks version 2: the subscriber must not print it.
    const std::string name = kit::unique_name("fakebus");
    const auto addr = ch07::unix_abstract(name);
    auto l = unix_socket(SOCK_SEQPACKET);
    ASSERT_EQ(::bind(l.get(), addr.get(), addr.len), 0);
    ASSERT_EQ(::listen(l.get(), 1), 0);
    kit::test::Running s = start_program("bus_subscribe", {name, "news", "1"});
    kit::Fd c = accept_one(l.get());
    ASSERT_TRUE(c);
    EXPECT_NE(recv_once(c.get(), kMaxMessage), "<timeout>");  // its subscription
    ASSERT_TRUE(send_str(c.get(), encode({'A', "news", "ok"}, kVersion + 1)));
    const std::string out = read_rest(s.output.get());
    EXPECT_TRUE(s.child.wait().exited_with(1)) << out;
    EXPECT_EQ(out, "bus_subscribe: recv (version 2, expected 1): Protocol error\n")
        << "EPROTO for a message of another version";
}

TEST(Bus, BrokerStopsOnSigtermAndItsAbstractNameIsGone) {
    Bus bus;
    ASSERT_EQ(read_line(bus.broker.output.get()), "broker on @" + bus.name);
    EXPECT_TRUE(listed(bus.name));
    ASSERT_EQ(::kill(bus.broker.child.pid(), SIGTERM), 0);
    EXPECT_EQ(read_rest(bus.broker.output.get()),
              "stopped by SIGTERM, 0 client(s) came and left\n");
    EXPECT_TRUE(bus.broker.child.wait().ok());
    EXPECT_FALSE(listed(bus.name));
}
