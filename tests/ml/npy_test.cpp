#include "ml/core/error.h"
#include "ml/data/npy.h"

#include "input_error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

class NpyTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_dir = fs::temp_directory_path() /
                ("npy_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                 "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    fs::path writeBytes(const std::string &name, const std::string &bytes)
    {
        const auto path = m_dir / name;
        std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
        return path;
    }

    fs::path m_dir;
};

// A .npy file built by hand: magic, version, little-endian header length, header text, data.
std::string handMade(int major, const std::string &dict, const std::string &data)
{
    std::string out("\x93NUMPY", 6);
    out.push_back(static_cast<char>(major));
    out.push_back(0);
    const std::size_t lengthSize = major == 1 ? 2 : 4;
    std::string header = dict;
    while ((6 + 2 + lengthSize + header.size() + 1) % 64 != 0)
        header.push_back(' ');
    header.push_back('\n');
    for (std::size_t i = 0; i < lengthSize; ++i)
        out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
    return out + header + data;
}

template <typename T> std::string rawBytes(std::initializer_list<T> values, bool bigEndian = false)
{
    std::string out;
    for (T v : values) {
        char b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));
        if (bigEndian)
            std::reverse(b, b + sizeof(T));
        out.append(b, sizeof(T));
    }
    return out;
}

using mp::test::errorOf;

} // namespace

TEST_F(NpyTest, OwnWriterRoundTripsEveryVariant)
{
    torch::manual_seed(3);
    const auto base = torch::randn({3, 4, 5}, torch::kFloat64) * 100;
    const std::vector<torch::Tensor> tensors = {base.to(torch::kFloat32),
                                                base,
                                                base.to(torch::kHalf),
                                                base.to(torch::kInt),
                                                base.to(torch::kLong),
                                                base.to(torch::kShort),
                                                base.to(torch::kChar),
                                                base.abs().to(torch::kByte),
                                                base > 0};
    int written = 0;
    for (const auto &t : tensors)
        for (int version : {0, 1, 2, 3})
            for (bool fortran : {false, true})
                for (bool big : {false, true}) {
                    const auto path = m_dir / ("t" + std::to_string(written++) + ".npy");
                    mp::npy::write(path, t,
                                   {.version = version, .fortranOrder = fortran, .bigEndian = big});
                    const auto back = mp::npy::read(path);
                    ASSERT_EQ(back.scalar_type(), t.scalar_type()) << path;
                    ASSERT_EQ(back.sizes(), t.sizes()) << path;
                    EXPECT_TRUE(torch::equal(back, t)) << path;
                    EXPECT_TRUE(back.is_contiguous());
                    const auto header = mp::npy::readHeader(path);
                    EXPECT_EQ(header.majorVersion, version == 0 ? 1 : version);
                    EXPECT_EQ(header.fortranOrder, fortran);
                    EXPECT_EQ(header.dataOffset % 64, 0u);
                }
    // Scalars, 1-D and empty arrays.
    for (const auto &t : {torch::tensor(2.5f), torch::arange(7, torch::kLong),
                          torch::zeros({0, 263}), torch::zeros({2, 0, 3}, torch::kInt)}) {
        const auto back = mp::npy::fromBytes(mp::npy::toBytes(t), "mem");
        EXPECT_EQ(back.sizes(), t.sizes());
        EXPECT_TRUE(torch::equal(back, t));
    }
    // The header NumPy expects: 1-tuples keep their comma.
    const auto bytes = mp::npy::toBytes(torch::arange(3, torch::kInt));
    EXPECT_NE(bytes.find("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"),
              std::string::npos);
}

TEST_F(NpyTest, ReadsHandMadeLittleEndianFloat32Version1)
{
    const auto path = writeBytes(
        "f4.npy", handMade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                           rawBytes<float>({1, 2, 3, 4, 5, 6})));
    const auto t = mp::npy::read(path);
    ASSERT_EQ(t.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(t, torch::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}})));
}

TEST_F(NpyTest, ReadsHandMadeFortranFloat64)
{
    // Column-major storage of [[1,2,3],[4,5,6]].
    const auto t =
        mp::npy::fromBytes(handMade(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                    rawBytes<double>({1, 4, 2, 5, 3, 6})),
                           "f8.npy");
    EXPECT_TRUE(torch::equal(t, torch::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}})));
}

TEST_F(NpyTest, ReadsHandMadeBigEndianInt32AndInt64)
{
    const auto i4 =
        mp::npy::fromBytes(handMade(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }",
                                    rawBytes<int32_t>({1, -2, 70000}, true)),
                           "be.npy");
    EXPECT_TRUE(torch::equal(i4, torch::tensor({1, -2, 70000}, torch::kInt)));
    const auto i8 =
        mp::npy::fromBytes(handMade(2, "{'descr': '>i8', 'fortran_order': True, 'shape': (2, 2), }",
                                    rawBytes<int64_t>({1, 3, 2, 4}, true)),
                           "be8.npy");
    EXPECT_TRUE(torch::equal(i8, torch::tensor({{1, 2}, {3, 4}}, torch::kLong)));
}

TEST_F(NpyTest, ReadsHandMadeVersion2And3HeadersInAnyKeyOrder)
{
    const auto v2 =
        mp::npy::fromBytes(handMade(2, "{'fortran_order': False, 'shape': (2,), 'descr': '<f4'}",
                                    rawBytes<float>({0.5f, -1.5f})),
                           "v2.npy");
    EXPECT_TRUE(torch::equal(v2, torch::tensor({0.5f, -1.5f})));
    const auto v3 = mp::npy::fromBytes(
        handMade(3, "{\"descr\":\"<f8\",\"fortran_order\":False,\"shape\":(1,1)}",
                 rawBytes<double>({42.0})),
        "v3.npy");
    EXPECT_TRUE(torch::equal(v3, torch::tensor({{42.0}})));
    const auto scalar =
        mp::npy::fromBytes(handMade(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                                    rawBytes<int64_t>({9})),
                           "scalar.npy");
    EXPECT_EQ(scalar.dim(), 0);
    EXPECT_EQ(scalar.item<int64_t>(), 9);
}

TEST_F(NpyTest, ReadsHandMadeBoolAndUint8)
{
    const auto b =
        mp::npy::fromBytes(handMade(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }",
                                    std::string("\x01\x00\x00\x01", 4)),
                           "b.npy");
    EXPECT_TRUE(torch::equal(b, torch::tensor({true, false, false, true})));
    const auto u =
        mp::npy::fromBytes(handMade(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
                                    std::string("\xff\x07", 2)),
                           "u.npy");
    EXPECT_TRUE(torch::equal(u, torch::tensor({255, 7}, torch::kByte)));
    const auto badBool = errorOf([&] {
        mp::npy::fromBytes(handMade(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }",
                                    std::string("\x02", 1)),
                           "b2.npy");
    });
    EXPECT_EQ(badBool.rfind("b2.npy: ", 0), 0u) << badBool;
}

TEST_F(NpyTest, BadFilesGiveOneErrorNamingTheFile)
{
    const std::string good =
        handMade(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                 rawBytes<float>({1, 2, 3, 4, 5, 6}));
    struct Case {
        std::string file, bytes, mentions;
    };
    const std::vector<Case> cases = {
        {"magic.npy", "PK\x03\x04 not numpy at all", "bad magic"},
        {"empty.npy", "", "bad magic"},
        {"short_header.npy", good.substr(0, 20), "truncated .npy header"},
        {"short_data.npy", good.substr(0, good.size() - 5), "truncated"},
        {"u4.npy",
         handMade(1, "{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }",
                  rawBytes<uint32_t>({1})),
         "unsupported dtype '<u4'"},
        {"c8.npy",
         handMade(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                  rawBytes<double>({1})),
         "unsupported dtype"},
        {"object.npy", handMade(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", ""),
         "unsupported dtype"},
        {"struct.npy",
         handMade(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", ""),
         "bad .npy header"},
        {"noshape.npy", handMade(1, "{'descr': '<f4', 'fortran_order': False, }", ""),
         "no 'shape' key"},
        {"version9.npy", std::string("\x93NUMPY\x09\x00", 8) + std::string(60, ' '),
         "unsupported .npy version 9.0"},
        {"huge.npy",
         handMade(
             1,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99), }",
             ""),
         "too large"},
    };
    for (const auto &c : cases) {
        const auto path = writeBytes(c.file, c.bytes);
        const auto message = errorOf([&] { mp::npy::read(path); });
        EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;
        EXPECT_NE(message.find(c.mentions), std::string::npos) << c.file << ": " << message;
    }
    const auto missing = errorOf([&] { mp::npy::read(m_dir / "nope.npy"); });
    EXPECT_NE(missing.find("nope.npy: cannot open"), std::string::npos) << missing;
    const auto unwritable =
        errorOf([&] { mp::npy::write(m_dir / "no_dir" / "x.npy", torch::zeros({2})); });
    EXPECT_NE(unwritable.find("x.npy: cannot open for writing"), std::string::npos) << unwritable;
}

TEST_F(NpyTest, WritingReplacesAnExistingFileWhole)
{
    const auto path = m_dir / "replace.npy";
    mp::npy::write(path, torch::zeros({100, 263}));
    mp::npy::write(path, torch::ones({2, 3}));
    EXPECT_TRUE(torch::equal(mp::npy::read(path), torch::ones({2, 3})));
    EXPECT_FALSE(fs::exists(m_dir / "replace.npy.part"));
}
