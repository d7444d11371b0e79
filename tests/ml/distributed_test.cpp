// ml/core/distributed: the rank environment, the shards, and the collectives on two Gloo ranks in
// one process (two threads over loopback).

#include <cstdlib>
#include <functional>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ml/core/distributed.h"
#include "ml/core/error.h"

namespace {

using Range = std::pair<std::size_t, std::size_t>;

int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address));
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

// Runs body(rank's Distributed) on two ranks, each on its own thread.
void onTwoRanks(const std::function<void(mp::Distributed &)> &body)
{
    const int port = freePort();
    std::exception_ptr errors[2];
    std::thread threads[2];
    for (int rank = 0; rank < 2; ++rank)
        threads[rank] = std::thread([&, rank] {
            try {
                mp::Distributed distributed({.rank = rank,
                                             .worldSize = 2,
                                             .localRank = rank,
                                             .localWorldSize = 2,
                                             .masterAddr = "127.0.0.1",
                                             .masterPort = port},
                                            {.timeout = std::chrono::seconds(20)}, c10::kCPU);
                body(distributed);
            } catch (...) {
                errors[rank] = std::current_exception();
            }
        });
    for (auto &thread : threads)
        thread.join();
    for (const auto &error : errors)
        if (error)
            std::rethrow_exception(error);
}

void clearRankEnvironment()
{
    for (const char *name :
         {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
          "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"})
        ::unsetenv(name);
}

// Sets exactly these rank variables for its lifetime.
struct EnvGuard {
    explicit EnvGuard(std::initializer_list<std::pair<const char *, const char *>> values)
    {
        clearRankEnvironment();
        for (const auto &[name, value] : values)
            ::setenv(name, value, 1);
    }
    ~EnvGuard() { clearRankEnvironment(); }
};

} // namespace

TEST(Distributed, OneProcessWithoutEnvironment)
{
    EnvGuard env({});
    const auto ranks = mp::rankEnvironmentFromEnv();
    EXPECT_EQ(ranks.worldSize, 1);
    mp::Distributed one;
    EXPECT_FALSE(one.active());
    EXPECT_TRUE(one.isWriter());
    EXPECT_EQ(one.shard(5), Range(0, 5));
    std::vector<at::Tensor> values{torch::ones({3})};
    one.allReduceSum(values);
    EXPECT_TRUE(torch::equal(values[0], torch::ones({3})));
}

TEST(Distributed, ReadsTorchrunThenSlurm)
{
    {
        EnvGuard env({{"RANK", "3"},
                      {"WORLD_SIZE", "4"},
                      {"LOCAL_RANK", "1"},
                      {"MASTER_ADDR", "node7"},
                      {"MASTER_PORT", "29411"}});
        const auto ranks = mp::rankEnvironmentFromEnv();
        EXPECT_EQ(ranks.rank, 3);
        EXPECT_EQ(ranks.worldSize, 4);
        EXPECT_EQ(ranks.localRank, 1);
        EXPECT_EQ(ranks.masterAddr, "node7");
        EXPECT_EQ(ranks.masterPort, 29411);
    }
    {
        EnvGuard env({{"SLURM_PROCID", "5"},
                      {"SLURM_NTASKS", "8"},
                      {"SLURM_LOCALID", "1"},
                      {"SLURM_NTASKS_PER_NODE", "4(x2)"},
                      {"MASTER_PORT", "29500"}});
        const auto ranks = mp::rankEnvironmentFromEnv();
        EXPECT_EQ(ranks.rank, 5);
        EXPECT_EQ(ranks.worldSize, 8);
        EXPECT_EQ(ranks.localRank, 1);
        EXPECT_EQ(ranks.localWorldSize, 4);
    }
    {
        EnvGuard env({{"RANK", "4"}, {"WORLD_SIZE", "4"}, {"MASTER_PORT", "1"}});
        EXPECT_THROW(mp::rankEnvironmentFromEnv(), mp::InputError); // rank outside the world
    }
    {
        EnvGuard env({{"RANK", "0"}, {"WORLD_SIZE", "2"}});
        EXPECT_THROW(mp::rankEnvironmentFromEnv(), mp::InputError); // no MASTER_PORT
    }
}

TEST(Distributed, ShardsAreContiguousAndCoverAll)
{
    for (const std::size_t n : {0u, 1u, 2u, 3u, 7u}) {
        std::size_t next = 0;
        for (int rank = 0; rank < 3; ++rank) {
            const auto [begin, end] = mp::shardRange(n, rank, 3);
            EXPECT_EQ(begin, next) << n << " items, rank " << rank;
            EXPECT_LE(end - begin, n / 3 + 1);
            EXPECT_GE(end - begin, n / 3);
            next = end;
        }
        EXPECT_EQ(next, n);
    }
    EXPECT_EQ(mp::shardRange(3, 0, 2), Range(0, 2));
    EXPECT_EQ(mp::shardRange(3, 1, 2), Range(2, 3));
}

TEST(Distributed, TwoGlooRanksReduce)
{
    onTwoRanks([](mp::Distributed &d) {
        ASSERT_TRUE(d.active());
        EXPECT_EQ(d.backendName(), "Gloo");
        const auto [begin, end] = d.shard(3); // 2 + 1
        EXPECT_EQ(end - begin, d.rank() == 0 ? 2u : 1u);

        // Gradients: a sum; one defined on rank 0 only counts as zero on rank 1; one defined
        // nowhere stays undefined. Small buckets split the three tensors.
        auto a = torch::zeros({4}, torch::requires_grad());
        auto b = torch::zeros({2, 3}, torch::requires_grad());
        auto c = torch::zeros({2}, torch::requires_grad());
        a.mutable_grad() = torch::full({4}, d.rank() + 1.0);
        if (d.rank() == 0)
            b.mutable_grad() = torch::ones({2, 3});
        d.allReduceGradients({a, b, c}, 8);
        EXPECT_TRUE(torch::allclose(a.grad(), torch::full({4}, 3.0)));
        ASSERT_TRUE(b.grad().defined());
        EXPECT_TRUE(torch::allclose(b.grad(), torch::ones({2, 3})));
        EXPECT_FALSE(c.grad().defined());

        // Weighted metrics: the union of the names, sums of (value, weight).
        std::map<std::string, std::pair<double, double>> local{{"loss", {d.rank() + 1.0, 1.0}}};
        if (d.rank() == 1)
            local["only/one"] = {0.5, 0.25};
        const auto reduced = d.allReduceWeighted(local);
        ASSERT_EQ(reduced.size(), 2u);
        EXPECT_DOUBLE_EQ(reduced.at("loss").first, 3.0);
        EXPECT_DOUBLE_EQ(reduced.at("loss").second, 2.0);
        EXPECT_DOUBLE_EQ(reduced.at("only/one").second, 0.25);

        EXPECT_EQ(d.allGather(d.rank() == 0 ? "zero" : "rank one"),
                  (std::vector<std::string>{"zero", "rank one"}));
        EXPECT_FALSE(d.allTrue(d.rank() == 0));
        EXPECT_TRUE(d.anyTrue(d.rank() == 0));
        EXPECT_FALSE(d.anyTrue(false));
        d.barrier("at the end of the test");
    });
}

TEST(Distributed, APeerThatLeavesFailsTheOtherWithTheRankNamed)
{
    const int port = freePort();
    std::string message;
    std::thread leaver([&] {
        mp::Distributed d(
            {.rank = 1, .worldSize = 2, .masterAddr = "127.0.0.1", .masterPort = port},
            {.timeout = std::chrono::seconds(20)}, c10::kCPU);
        // Leaves without another collective: its sockets close with it.
    });
    try {
        mp::Distributed d(
            {.rank = 0, .worldSize = 2, .masterAddr = "127.0.0.1", .masterPort = port},
            {.timeout = std::chrono::seconds(3)}, c10::kCPU);
        leaver.join();
        std::vector<at::Tensor> values{torch::ones({2})};
        d.allReduceSum(values);
    } catch (const mp::DistributedError &error) {
        message = error.what();
    }
    if (leaver.joinable())
        leaver.join();
    EXPECT_NE(message.find("rank 0 of 2"), std::string::npos) << message;
    EXPECT_NE(message.find("failed"), std::string::npos) << message;
}
