#include "ml/core/device.h"
#include "ml/core/error.h"

#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <thread>

TEST(Device, CpuIsAlwaysAvailable)
{
    EXPECT_TRUE(mp::resolveDevice("cpu").is_cpu());
}

TEST(Device, AutoFallsBackToCpuWithoutCuda)
{
    const auto device = mp::resolveDevice("auto");
    EXPECT_EQ(device.is_cuda(), mp::cudaAvailable());
}

TEST(Device, CudaWithoutGpuIsAUserError)
{
    if (mp::cudaAvailable())
        GTEST_SKIP() << "a GPU is present";
    EXPECT_THROW(mp::resolveDevice("cuda"), mp::InputError);
}

TEST(Device, UnknownNameIsAUserError)
{
    try {
        mp::resolveDevice("tpu");
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("tpu"), std::string::npos);
    }
}

TEST(Device, ThreadsFollowHardware)
{
    mp::configureTorchThreads();
    EXPECT_EQ(at::get_num_threads(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}
