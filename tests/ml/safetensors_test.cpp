#include "ml/core/error.h"
#include "ml/data/safetensors.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

class Safetensors : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_dir = fs::temp_directory_path() /
                ("mp_safetensors_" + std::to_string(::getpid()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    // A file with a hand-written header and `dataBytes` bytes of data.
    fs::path rawFile(const std::string &header, std::size_t dataBytes, std::uint64_t headerSize = 0)
    {
        const auto path = m_dir / "raw.safetensors";
        std::ofstream out(path, std::ios::binary);
        const std::uint64_t size = headerSize ? headerSize : header.size();
        out.write(reinterpret_cast<const char *>(&size), 8);
        out << header;
        out << std::string(dataBytes, '\0');
        return path;
    }

    // The InputError message of reading `path`, or "" when it reads fine.
    static std::string errorOf(const fs::path &path)
    {
        try {
            mp::readSafetensors(path);
        } catch (const mp::InputError &e) {
            return e.what();
        }
        return "";
    }

    fs::path m_dir;
};

TEST_F(Safetensors, RoundTripsEveryDtype)
{
    mp::TensorMap tensors;
    tensors["f32"] = torch::tensor({1.5f, -2.25f, 3.0f}).reshape({3, 1});
    tensors["f16"] = torch::tensor({0.5, -1.0}).to(torch::kHalf);
    tensors["bf16"] = torch::tensor({0.5, 2.0, -8.0}).to(torch::kBFloat16);
    tensors["f64"] = torch::tensor({1e-300, 2.0}, torch::kDouble);
    tensors["i64"] = torch::tensor({std::int64_t(1) << 40, std::int64_t(-3)});
    tensors["i32"] = torch::tensor({7, -9}, torch::kInt);
    tensors["i8"] = torch::tensor({-128, 127}, torch::kChar);
    tensors["u8"] = torch::tensor({0, 255}, torch::kByte);
    tensors["bool"] = torch::tensor({true, false, true});
    tensors["empty"] = torch::zeros({0, 4});
    tensors["scalar"] = torch::tensor(4.0f);
    // A non-contiguous view is written as its values.
    tensors["transposed"] = torch::arange(6, torch::kFloat).reshape({2, 3}).t();

    const auto path = m_dir / "all.safetensors";
    mp::writeSafetensors(path, tensors, {{"format", "pt"}});
    mp::SafetensorsReader reader(path);
    EXPECT_EQ(reader.metadata().at("format"), "pt");
    EXPECT_EQ(reader.names().size(), tensors.size());
    for (const auto &[name, expected] : tensors) {
        const auto got = reader.tensor(name);
        EXPECT_EQ(got.scalar_type(), expected.scalar_type()) << name;
        EXPECT_EQ(got.sizes(), expected.sizes()) << name;
        EXPECT_TRUE(torch::equal(got, expected)) << name;
    }
    EXPECT_EQ(reader.entry("bf16").dtype, torch::kBFloat16);
    // The data section starts 8-byte aligned.
    std::ifstream in(path, std::ios::binary);
    std::uint64_t headerSize = 0;
    in.read(reinterpret_cast<char *>(&headerSize), 8);
    EXPECT_EQ(headerSize % 8, 0u);
}

TEST_F(Safetensors, ReadsAHandWrittenFileLittleEndian)
{
    // F32 1.0 = 00 00 80 3f; I64 258 = 02 01 00 ...
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"I64","shape":[],"data_offsets":[4,12]}})";
    const auto path = m_dir / "hand.safetensors";
    std::ofstream out(path, std::ios::binary);
    const std::uint64_t size = header.size();
    out.write(reinterpret_cast<const char *>(&size), 8);
    out << header;
    const unsigned char data[12] = {0, 0, 0x80, 0x3f, 2, 1, 0, 0, 0, 0, 0, 0};
    out.write(reinterpret_cast<const char *>(data), 12);
    out.close();
    const auto tensors = mp::readSafetensors(path);
    EXPECT_EQ(tensors.at("a").item<float>(), 1.0f);
    EXPECT_EQ(tensors.at("b").item<std::int64_t>(), 258);
    EXPECT_EQ(tensors.at("b").dim(), 0);
}

TEST_F(Safetensors, BadOffsetsNameFileAndTensor)
{
    const auto past =
        errorOf(rawFile(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8));
    EXPECT_NE(past.find("raw.safetensors"), std::string::npos) << past;
    EXPECT_NE(past.find("'w'"), std::string::npos) << past;
    EXPECT_NE(past.find("run past"), std::string::npos) << past;

    const auto reversed =
        errorOf(rawFile(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8));
    EXPECT_NE(reversed.find("'w'"), std::string::npos) << reversed;

    const auto negative =
        errorOf(rawFile(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 8));
    EXPECT_NE(negative.find("'w'"), std::string::npos) << negative;
}

TEST_F(Safetensors, OverlappingTensorsAreRejected)
{
    const auto message =
        errorOf(rawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                        12));
    EXPECT_NE(message.find("overlaps"), std::string::npos) << message;
    EXPECT_NE(message.find("'b'"), std::string::npos) << message;
}

TEST_F(Safetensors, ShapeSizeMismatchIsRejected)
{
    const auto message =
        errorOf(rawFile(R"({"w":{"dtype":"F16","shape":[3,2],"data_offsets":[0,8]}})", 8));
    EXPECT_NE(message.find("'w'"), std::string::npos) << message;
    EXPECT_NE(message.find("(3,2)"), std::string::npos) << message;
    EXPECT_NE(message.find("12 bytes"), std::string::npos) << message;
}

TEST_F(Safetensors, UnknownDtypeIsRejected)
{
    const auto message =
        errorOf(rawFile(R"({"w":{"dtype":"F8_E4M3X","shape":[1],"data_offsets":[0,1]}})", 1));
    EXPECT_NE(message.find("F8_E4M3X"), std::string::npos) << message;
    EXPECT_NE(message.find("'w'"), std::string::npos) << message;
}

TEST_F(Safetensors, HeaderTooLargeOrTruncated)
{
    const auto huge = errorOf(rawFile("{}", 0, std::uint64_t(1) << 40));
    EXPECT_NE(huge.find("too large"), std::string::npos) << huge;
    const auto past = errorOf(rawFile("{}", 0, 1000));
    EXPECT_NE(past.find("past the end"), std::string::npos) << past;
    const auto notJson = errorOf(rawFile("{nope", 0));
    EXPECT_NE(notJson.find("JSON"), std::string::npos) << notJson;

    const auto tiny = m_dir / "tiny.safetensors";
    std::ofstream(tiny) << "abc";
    EXPECT_NE(errorOf(tiny).find("too short"), std::string::npos);
    EXPECT_NE(errorOf(m_dir / "missing.safetensors").find("missing.safetensors"),
              std::string::npos);
}

TEST_F(Safetensors, MissingTensorAndReservedName)
{
    const auto path = m_dir / "one.safetensors";
    mp::writeSafetensors(path, {{"x", torch::ones({2})}});
    mp::SafetensorsReader reader(path);
    EXPECT_TRUE(reader.contains("x"));
    EXPECT_THROW(reader.tensor("y"), mp::InputError);
    EXPECT_THROW(mp::writeSafetensors(path, {{"__metadata__", torch::ones({1})}}), mp::InputError);
    EXPECT_THROW(mp::writeSafetensors(path, {{"c", torch::ones({1}, torch::kComplexFloat)}}),
                 mp::InputError);
}

} // namespace
