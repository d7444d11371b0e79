// events.jsonl writing and incremental reading, spike detection and the divergence guard.
#include "ml/core/error.h"
#include "ml/run/events.h"
#include "ml/run/run_monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

namespace {

namespace fs = std::filesystem;

class EventsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_dir = fs::temp_directory_path() /
                ("mp_events_" + std::to_string(::getpid()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    void appendRaw(const std::string &text)
    {
        std::ofstream out(path(), std::ios::app | std::ios::binary);
        out << text;
    }
    fs::path path() const { return m_dir / "events.jsonl"; }

    fs::path m_dir;
};

TEST_F(EventsTest, RoundTripWithNanAndText)
{
    {
        mp::EventWriter writer(path());
        writer.write({.type = mp::EventType::Step,
                      .step = 3,
                      .epoch = 0.25,
                      .metrics = {{"loss", 0.5}, {"rewards/chosen", -0.1}}});
        writer.write({.type = mp::EventType::Failed,
                      .step = 4,
                      .metrics = {{"loss", std::numeric_limits<double>::quiet_NaN()}},
                      .text = {{"reason", "loss is nan"}}});
    }
    const auto events = mp::readEvents(path());
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].type, mp::EventType::Step);
    EXPECT_EQ(events[0].step, 3);
    EXPECT_DOUBLE_EQ(events[0].epoch, 0.25);
    EXPECT_GT(events[0].time, 1.6e9); // stamped by the writer
    EXPECT_DOUBLE_EQ(events[0].metrics.at("rewards/chosen"), -0.1);
    EXPECT_EQ(events[1].type, mp::EventType::Failed);
    EXPECT_TRUE(std::isnan(events[1].metrics.at("loss")));
    EXPECT_EQ(events[1].text.at("reason"), "loss is nan");
    EXPECT_THROW(mp::eventToJson({.metrics = {{"step", 1.0}}}), std::invalid_argument);
}

TEST_F(EventsTest, MotionMetricsListsRoundTrip)
{
    const mp::Event event{
        .type = mp::EventType::MotionMetrics,
        .step = 10,
        .epoch = 2.0,
        .metrics = {{"motion/FID", 1.5}, {"motion/FID/ci", 0.25}},
        .lists = {{"motion/FID/values", {1.25, 1.75, std::numeric_limits<double>::infinity()}}}};
    const std::string line = mp::eventToJson(event);
    EXPECT_NE(line.find("\"type\":\"motion_metrics\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"motion/FID/values\":[1.25,1.75,null]"), std::string::npos) << line;
    const auto back = mp::eventFromJson(line);
    EXPECT_EQ(back.type, mp::EventType::MotionMetrics);
    EXPECT_DOUBLE_EQ(back.metrics.at("motion/FID/ci"), 0.25);
    ASSERT_EQ(back.lists.at("motion/FID/values").size(), 3u);
    EXPECT_DOUBLE_EQ(back.lists.at("motion/FID/values")[1], 1.75);
    EXPECT_TRUE(std::isnan(back.lists.at("motion/FID/values")[2]));
    EXPECT_THROW(mp::eventFromJson(R"({"type":"motion_metrics","x":["a"]})"), mp::InputError);
}

TEST_F(EventsTest, ReaderFollowsAGrowingFileWithPartialLines)
{
    mp::EventReader reader(path());
    EXPECT_TRUE(reader.poll().empty()); // not created yet
    appendRaw(R"({"type":"step","step":1,"epoch":0,"time":1,"loss":1.0})"
              "\n");
    appendRaw(R"({"type":"step","step":2,"epo)");
    auto events = reader.poll();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].step, 1);
    EXPECT_TRUE(reader.poll().empty()); // the partial line waits
    appendRaw(R"(ch":0,"time":2,"loss":0.9})"
              "\n"
              "garbage\n");
    appendRaw(R"({"type":"eval","step":2,"epoch":1,"time":3,"eval_loss":0.8})"
              "\n");
    events = reader.poll();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].step, 2);
    EXPECT_DOUBLE_EQ(events[0].metrics.at("loss"), 0.9);
    EXPECT_EQ(events[1].type, mp::EventType::Eval);
    EXPECT_EQ(reader.malformedLines(), 1);
    EXPECT_NE(reader.lastError().find("line 3"), std::string::npos);
}

TEST_F(EventsTest, WriterEndsAPartialLineLeftByAKilledRun)
{
    appendRaw(R"({"type":"step","step":1,"epoch":0,"time":1})"
              "\n"
              R"({"type":"st)");
    {
        mp::EventWriter writer(path());
        writer.write({.type = mp::EventType::Step, .step = 2});
    }
    mp::EventReader reader(path());
    const auto events = reader.poll();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].step, 2);
    EXPECT_EQ(reader.malformedLines(), 1);
}

TEST_F(EventsTest, ReaderRestartsWhenTheFileShrinks)
{
    appendRaw(R"({"type":"step","step":1,"epoch":0,"time":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"})"
              "\n");
    mp::EventReader reader(path());
    EXPECT_EQ(reader.poll().size(), 1u);
    fs::remove(path());
    appendRaw(R"({"type":"done","step":9,"epoch":1,"time":2})"
              "\n");
    const auto events = reader.poll();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, mp::EventType::Done);
}

TEST(SpikeDetector, FlagsAnOutlierAfterEnoughHistory)
{
    mp::SpikeDetector detector({.window = 50, .minHistory = 20, .threshold = 6.0});
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0.0, 0.01);
    for (int i = 0; i < 40; ++i)
        EXPECT_FALSE(detector.observe(0.5 + noise(rng)).has_value()) << i;
    const auto spike = detector.observe(1.0);
    ASSERT_TRUE(spike.has_value());
    EXPECT_NEAR(spike->median, 0.5, 0.01);
    EXPECT_GT(spike->score, 6.0);
    EXPECT_FALSE(detector.observe(0.5).has_value());
    EXPECT_EQ(detector.size(), 42);

    mp::SpikeDetector early({.minHistory = 20});
    EXPECT_FALSE(early.observe(0.0).has_value());
    EXPECT_FALSE(early.observe(100.0).has_value()); // too little history for a verdict
}

TEST(Divergence, Reasons)
{
    EXPECT_FALSE(mp::divergenceReason({{"loss", 0.7}, {"objective/kl", 3.0}}).has_value());
    const auto nanLoss = mp::divergenceReason({{"loss", std::numeric_limits<double>::quiet_NaN()}});
    ASSERT_TRUE(nanLoss.has_value());
    EXPECT_NE(nanLoss->find("loss is nan"), std::string::npos);
    EXPECT_TRUE(mp::divergenceReason({{"ppo/loss/total", INFINITY}}).has_value());
    const auto kl = mp::divergenceReason({{"objective/kl", 250.0}});
    ASSERT_TRUE(kl.has_value());
    EXPECT_NE(kl->find("exceeds"), std::string::npos);
    EXPECT_FALSE(mp::divergenceReason({{"objective/kl", 250.0}}, {.maxKl = 300}).has_value());
}

TEST_F(EventsTest, RunMonitorWritesSpikesAndStopsOnDivergence)
{
    {
        mp::EventWriter writer(path());
        mp::RunMonitor monitor(writer, {.spike = {.minHistory = 5}});
        for (int step = 1; step <= 10; ++step)
            EXPECT_TRUE(monitor.logStep(step, 0.1 * step,
                                        {{"loss", 0.7}, {"rewards/chosen", 0.01 * (step % 3)}}));
        EXPECT_TRUE(monitor.logStep(11, 1.1, {{"loss", 0.7}, {"rewards/chosen", 5.0}}));
        EXPECT_EQ(monitor.spikeCount(), 1);
        EXPECT_FALSE(monitor.logStep(12, 1.2, {{"loss", std::nan("")}}));
        EXPECT_TRUE(monitor.failed());
    }
    const auto events = mp::readEvents(path());
    ASSERT_EQ(events.size(), 14u);
    EXPECT_EQ(events[11].type, mp::EventType::Spike);
    EXPECT_EQ(events[11].text.at("metric"), "rewards/chosen");
    EXPECT_EQ(events[11].step, 11);
    EXPECT_EQ(events[13].type, mp::EventType::Failed);
    EXPECT_EQ(events[13].step, 12);
    EXPECT_NE(events[13].text.at("reason").find("loss"), std::string::npos);
}

} // namespace
