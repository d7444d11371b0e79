#include "ml/core/error.h"
#include "ml/data/normalizer.h"
#include "ml/data/npy.h"

#include "input_error.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace {

fs::path freshDir(const std::string &name)
{
    const auto dir = fs::temp_directory_path() / ("normalizer_test_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

using mp::test::errorOf;

} // namespace

TEST(Normalizer, AppliesBothWays)
{
    const mp::Normalizer n(torch::tensor({1.0f, -2.0f, 0.5f}), torch::tensor({2.0f, 0.5f, 1.0f}));
    const auto x = torch::tensor({{3.0f, -2.0f, 0.0f}, {1.0f, -1.0f, 1.5f}});
    const auto z = n.normalize(x);
    EXPECT_TRUE(torch::allclose(z, torch::tensor({{1.0f, 0.0f, -0.5f}, {0.0f, 2.0f, 1.0f}})));
    EXPECT_TRUE(torch::allclose(n.denormalize(z), x));
    // Works on batches and on double.
    EXPECT_TRUE(torch::allclose(n.denormalize(n.normalize(x.to(torch::kFloat64).unsqueeze(0))),
                                x.to(torch::kFloat64).unsqueeze(0)));
    EXPECT_THROW(n.normalize(torch::zeros({2, 4})), mp::InputError);
}

TEST(Normalizer, SavesAndLoadsMeanAndStdNpy)
{
    const auto dir = freshDir("save");
    const mp::Normalizer n(torch::randn({263}), torch::rand({263}) + 0.1);
    n.saveDirectory(dir);
    ASSERT_TRUE(fs::exists(dir / "Mean.npy"));
    ASSERT_TRUE(fs::exists(dir / "Std.npy"));
    const auto back = mp::Normalizer::loadDirectory(dir);
    EXPECT_TRUE(torch::equal(back.mean(), n.mean()));
    EXPECT_TRUE(torch::equal(back.std(), n.std()));
    EXPECT_EQ(back.dim(), 263);
    // HumanML3D ships float32 (D,), but float64 files load as well.
    mp::npy::write(dir / "Mean.npy", n.mean().to(torch::kFloat64));
    EXPECT_TRUE(torch::allclose(mp::Normalizer::loadDirectory(dir).mean(), n.mean()));
    fs::remove_all(dir);
}

TEST(Normalizer, FitGroupsStdLikeHumanML3D)
{
    torch::manual_seed(1);
    auto x = torch::randn({500, 263}, torch::kFloat64);
    x.slice(1, 4, 67) *= torch::linspace(0.5, 1.5, 63, torch::kFloat64); // uneven ric channels
    x.slice(1, 259, 263).fill_(1.0);                                     // constant contacts
    const auto n = mp::Normalizer::fit(x);
    const auto std = n.std().to(torch::kFloat64);
    // One std for the whole ric group: the mean of its members' stds.
    EXPECT_NEAR(std[4].item<double>(), std[66].item<double>(), 1e-6);
    EXPECT_NEAR(std[4].item<double>(), x.slice(1, 4, 67).std(0, false).mean().item<double>(), 1e-5);
    // Constant channels get std 1, never 0.
    EXPECT_EQ(std[260].item<double>(), 1.0);
    const auto plain = mp::Normalizer::fit(x, false);
    EXPECT_GT((plain.std()[66] - plain.std()[4]).item<double>(), 0.5);
}

TEST(Normalizer, BadFilesNameTheFile)
{
    const auto dir = freshDir("bad");
    mp::npy::write(dir / "Mean.npy", torch::zeros({263}));
    auto std = torch::ones({263});
    std[5] = 0.0f;
    mp::npy::write(dir / "Std.npy", std);
    auto message = errorOf([&] { mp::Normalizer::loadDirectory(dir); });
    EXPECT_NE(message.find("Std.npy"), std::string::npos) << message;
    EXPECT_NE(message.find("zero or negative"), std::string::npos) << message;

    mp::npy::write(dir / "Std.npy", torch::ones({262}));
    message = errorOf([&] { mp::Normalizer::loadDirectory(dir); });
    EXPECT_NE(message.find("263"), std::string::npos) << message;

    mp::npy::write(dir / "Mean.npy", torch::zeros({263, 1}));
    message = errorOf([&] { mp::Normalizer::loadDirectory(dir); });
    EXPECT_EQ(message.rfind((dir / "Mean.npy").string() + ": expected a vector", 0), 0u) << message;

    auto nan = torch::zeros({263});
    nan[7] = std::numeric_limits<float>::quiet_NaN();
    mp::npy::write(dir / "Mean.npy", nan);
    message = errorOf([&] { mp::Normalizer::loadDirectory(dir); });
    EXPECT_NE(message.find("Mean.npy: 1 non-finite"), std::string::npos) << message;

    fs::remove(dir / "Std.npy");
    mp::npy::write(dir / "Mean.npy", torch::zeros({263}));
    message = errorOf([&] { mp::Normalizer::loadDirectory(dir); });
    EXPECT_NE(message.find("Std.npy: cannot open"), std::string::npos) << message;
    fs::remove_all(dir);
}
