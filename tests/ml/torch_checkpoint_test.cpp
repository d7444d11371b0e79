// The restricted unpickler and the torch.save reader against files written by Python's
// torch.save and pickle.dump (tests/reference/checkpoints.py): every value of the tree must equal
// Python's description of it (golden/checkpoints/*.json), every tensor the values the
// safetensors package wrote, and broken or malicious input must give an InputError.

#include "ml/core/error.h"
#include "ml/data/pickle_reader.h"
#include "ml/data/safetensors.h"
#include "ml/data/torch_checkpoint.h"

#include "temp_dir.h"

#include "golden_files.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>

namespace fs = std::filesystem;
using Kind = mp::PickleValue::Kind;

namespace {

fs::path checkpointGoldenDir()
{
    return mp::test::goldenDir("checkpoints");
}

// Pickle's little-endian two's complement bytes of a positive int, in decimal.
std::string decimal(std::string bytes)
{
    std::string digits;
    while (true) {
        bool zero = true;
        int remainder = 0;
        for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) {
            const int value = remainder * 256 + static_cast<std::uint8_t>(*it);
            *it = static_cast<char>(value / 10);
            remainder = value % 10;
            zero = zero && *it == 0;
        }
        digits.insert(digits.begin(), static_cast<char>('0' + remainder));
        if (zero)
            return digits;
    }
}

// Python's str(dtype) of the dtypes torch.save writes.
std::string dtypeName(at::ScalarType dtype)
{
    switch (dtype) {
    case at::kFloat:
        return "torch.float32";
    case at::kDouble:
        return "torch.float64";
    case at::kHalf:
        return "torch.float16";
    case at::kBFloat16:
        return "torch.bfloat16";
    case at::kChar:
        return "torch.int8";
    case at::kShort:
        return "torch.int16";
    case at::kInt:
        return "torch.int32";
    case at::kLong:
        return "torch.int64";
    case at::kByte:
        return "torch.uint8";
    case at::kBool:
        return "torch.bool";
    default:
        return "?";
    }
}

class Compare {
public:
    Compare(const mp::TorchCheckpoint *checkpoint, mp::TensorMap expected)
        : m_checkpoint(checkpoint), m_expected(std::move(expected))
    {
    }
    int tensorsCompared = 0;

    void operator()(const mp::PickleValue &value, const nlohmann::json &want,
                    const std::string &path)
    {
        SCOPED_TRACE(path);
        if (want.contains("dict")) {
            ASSERT_EQ(value.kind(), Kind::Dict);
            const auto &items = value.toDict();
            ASSERT_EQ(items.size(), want["dict"].size());
            for (std::size_t i = 0; i < items.size(); ++i) {
                const auto &key = items[i].first;
                const auto keyText =
                    key.is(Kind::Int) ? std::to_string(key.toInt()) : key.toString();
                EXPECT_EQ(keyText, want["dict"][i][0].get<std::string>());
                (*this)(items[i].second, want["dict"][i][1], path + "/" + keyText);
            }
        } else if (want.contains("list") || want.contains("tuple")) {
            const bool isList = want.contains("list");
            ASSERT_EQ(value.kind(), isList ? Kind::List : Kind::Tuple);
            const auto &items = want[isList ? "list" : "tuple"];
            ASSERT_EQ(value.toList().size(), items.size());
            for (std::size_t i = 0; i < items.size(); ++i)
                (*this)(value.toList()[i], items[i], path + "/" + std::to_string(i));
        } else if (want.contains("tensor")) {
            ASSERT_EQ(value.kind(), Kind::Tensor);
            const auto &ref = value.toTensor();
            EXPECT_EQ(dtypeName(ref.storage.dtype), want["dtype"].get<std::string>());
            EXPECT_EQ(ref.sizes, want["shape"].get<std::vector<std::int64_t>>());
            EXPECT_EQ(ref.strides, want["stride"].get<std::vector<std::int64_t>>());
            EXPECT_EQ(ref.storageOffset, want["offset"].get<std::int64_t>());
            const auto tensor = m_checkpoint->tensor(ref);
            const auto &expected = m_expected.at(want["tensor"].get<std::string>());
            EXPECT_EQ(tensor.scalar_type(), expected.scalar_type());
            EXPECT_TRUE(at::equal(tensor, expected)) << tensor << expected;
            ++tensorsCompared;
        } else if (want.contains("bool")) {
            ASSERT_EQ(value.kind(), Kind::Bool);
            EXPECT_EQ(value.toBool(), want["bool"].get<bool>());
        } else if (want.contains("int")) {
            if (want["int"].is_string()) {
                ASSERT_EQ(value.kind(), Kind::BigInt);
                EXPECT_EQ(decimal(value.toString()), want["int"].get<std::string>());
            } else {
                ASSERT_EQ(value.kind(), Kind::Int);
                EXPECT_EQ(value.toInt(), want["int"].get<std::int64_t>());
            }
        } else if (want.contains("float")) {
            ASSERT_EQ(value.kind(), Kind::Float);
            EXPECT_EQ(value.toFloat(), want["float"].get<double>());
        } else if (want.contains("str")) {
            ASSERT_EQ(value.kind(), Kind::String);
            EXPECT_EQ(value.toString(), want["str"].get<std::string>());
        } else if (want.contains("bytes")) {
            ASSERT_EQ(value.kind(), Kind::Bytes);
            std::string bytes;
            for (const auto &b : want["bytes"])
                bytes.push_back(static_cast<char>(b.get<int>()));
            EXPECT_EQ(value.toString(), bytes);
        } else if (want.contains("none")) {
            EXPECT_EQ(value.kind(), Kind::None);
        } else if (want.contains("skipped")) {
            ASSERT_EQ(value.kind(), Kind::Skipped);
            const auto what = want["skipped"].get<std::string>();
            if (what.rfind("tensor of ", 0) == 0)
                EXPECT_NE(value.toString().find(what.substr(10)), std::string::npos);
            else
                EXPECT_EQ(value.toString(), what);
        } else {
            FAIL() << "unknown description " << want.dump();
        }
    }

private:
    const mp::TorchCheckpoint *m_checkpoint;
    mp::TensorMap m_expected;
};

const void *storageOf(const at::Tensor &t)
{
    return t.storage().unsafeGetStorageImpl();
}

class TorchCheckpointTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchCheckpointTest, EveryValueEqualsPythons)
{
    const auto stem = GetParam();
    const auto checkpoint = mp::readTorchCheckpoint(checkpointGoldenDir() / (stem + ".pt"));
    EXPECT_EQ(checkpoint.isLegacy(), stem == "tensors_legacy");
    Compare compare(&checkpoint,
                    mp::readSafetensors(checkpointGoldenDir() / (stem + ".safetensors")));
    compare(checkpoint.root(), mp::test::readJsonFile(checkpointGoldenDir() / (stem + ".json")),
            "");
    EXPECT_GE(compare.tensorsCompared, 20);

    // Views of one storage share it, as in PyTorch; separate tensors do not.
    const auto views = checkpoint.tensors("views");
    EXPECT_EQ(storageOf(views.at("shared_a")), storageOf(views.at("shared_b")));
    EXPECT_EQ(storageOf(views.at("transposed")), storageOf(views.at("offset")));
    EXPECT_NE(storageOf(views.at("shared_a")), storageOf(views.at("transposed")));
    EXPECT_FALSE(views.at("transposed").is_contiguous());
    EXPECT_EQ(views.at("expanded").stride(0), 0);
    EXPECT_EQ(checkpoint.tensors("nested/a/b").at("c").sizes(), at::IntArrayRef({3}));
    EXPECT_EQ(checkpoint.tensors("").count("parameter"), 1u);

    // Only the uint16 tensor (a dtype LibTorch 1.13 lacks) is skipped, and named.
    const auto &skipped = checkpoint.skipped();
    if (stem == "tensors") {
        ASSERT_EQ(skipped.size(), 1u);
        EXPECT_EQ(skipped[0].path, "new_dtype");
        EXPECT_NE(skipped[0].what.find("torch.uint16"), std::string::npos);
    } else {
        EXPECT_TRUE(skipped.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(ZipAndLegacy, TorchCheckpointTest,
                         ::testing::Values("tensors", "tensors_legacy"));

TEST(TorchCheckpoint, LightningCheckpointKeepsTheModelAndNamesWhatItSkips)
{
    const auto checkpoint = mp::readTorchCheckpoint(checkpointGoldenDir() / "lightning.ckpt");
    Compare compare(&checkpoint,
                    mp::readSafetensors(checkpointGoldenDir() / "lightning.safetensors"));
    compare(checkpoint.root(), mp::test::readJsonFile(checkpointGoldenDir() / "lightning.json"),
            "");
    EXPECT_GE(compare.tensorsCompared, 4 + 3 + 4 * 3); // model, callback scores, Adam state

    const auto state = checkpoint.tensors("state_dict");
    ASSERT_EQ(state.size(), 4u);
    EXPECT_EQ(state.at("model.0.weight").sizes(), at::IntArrayRef({4, 3}));
    const auto *step = mp::findPath(checkpoint.root(), "optimizer_states/0/state/0/step");
    ASSERT_NE(step, nullptr);
    EXPECT_EQ(checkpoint.tensor(step->toTensor()).item<float>(), 1.0f);
    const auto *betas = mp::findPath(checkpoint.root(), "optimizer_states/0/param_groups/0/betas");
    ASSERT_NE(betas, nullptr);
    EXPECT_EQ(betas->toList().at(1).toFloat(), 0.99);

    std::map<std::string, std::string> skipped;
    for (const auto &s : checkpoint.skipped())
        skipped[s.path] = s.what;
    EXPECT_EQ(skipped, (std::map<std::string, std::string>{
                           {"hyper_parameters/cfg", "omegaconf.dictconfig.DictConfig"},
                           {"hyper_parameters/codes", "omegaconf.listconfig.ListConfig"}}));
}

TEST(PickleFile, PlainPicklesOfEveryProtocol)
{
    const auto words = mp::test::readJsonFile(checkpointGoldenDir() / "words.json")
                           .get<std::vector<std::string>>();
    for (const char *protocol : {"2", "3", "4", "5"}) {
        SCOPED_TRACE(protocol);
        const auto list = mp::readPickleFile(checkpointGoldenDir() /
                                             ("words_p" + std::string(protocol) + ".pkl"));
        ASSERT_EQ(list.kind(), Kind::List);
        std::vector<std::string> read;
        for (const auto &item : list.toList())
            read.push_back(item.toString());
        EXPECT_EQ(read, words);
        const auto index =
            mp::readPickleFile(checkpointGoldenDir() / ("idx_p" + std::string(protocol) + ".pkl"));
        ASSERT_EQ(index.toDict().size(), words.size());
        for (std::size_t i = 0; i < words.size(); ++i) {
            ASSERT_NE(index.find(words[i]), nullptr) << words[i];
            EXPECT_EQ(index.find(words[i])->toInt(), static_cast<std::int64_t>(i));
        }
    }
}

std::string inputError(const std::function<void()> &f)
{
    try {
        f();
    } catch (const mp::InputError &e) {
        return e.what();
    }
    return "";
}

std::string unpickleError(const std::string &bytes, bool persistent = false)
{
    return inputError([&] {
        mp::unpickle(reinterpret_cast<const std::uint8_t *>(bytes.data()), bytes.size(), 0,
                     "crafted", {.maxDepth = 64, .allowPersistentIds = persistent});
    });
}

TEST(PickleFile, MaliciousInputIsAnInputErrorNamingTheProblem)
{
    using namespace std::string_literals;
    // A list that contains itself: a cycle, refused (and freed) as too deep.
    EXPECT_NE(unpickleError("\x80\x02]q\x00h\x00"
                            "a."s)
                  .find("cycle"),
              std::string::npos);
    // A million nested tuples: refused, no stack overflow on the way out.
    EXPECT_NE(unpickleError("\x80\x02)" + std::string(1000000, '\x85') + "."s).find("deeper"),
              std::string::npos);
    // A string claiming 4 GiB: truncated, nothing allocated.
    EXPECT_NE(unpickleError("\x80\x02X\xff\xff\xff\xff"s).find("runs past the end"),
              std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02h\x07."s).find("never stored"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02\xff."s).find("opcode 0xff"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02(."s).find("stack underflow"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02]"s).find("crafted: pickle at byte 3: truncated"),
              std::string::npos);
    // An unknown global is never called: REDUCE gives a placeholder naming it.
    const std::string system = "\x80\x02\x63os\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R."s;
    EXPECT_EQ(unpickleError(system), "");
    const auto placeholder = mp::unpickle(reinterpret_cast<const std::uint8_t *>(system.data()),
                                          system.size(), 0, "crafted");
    EXPECT_EQ(placeholder.value.kind(), Kind::Skipped);
    EXPECT_EQ(placeholder.value.toString(), "os.system");
    // Protocol 0/1 objects (copyreg._reconstructor(cls, object, state)) are named by their class.
    const std::string object = "\x80\x02\x63\x63opyreg\n_reconstructor\n\x63pathlib\nPosixPath\n"
                               "\x63\x62uiltins\nobject\nN\x87R."s;
    const auto reconstructed = mp::unpickle(reinterpret_cast<const std::uint8_t *>(object.data()),
                                            object.size(), 0, "crafted");
    EXPECT_EQ(reconstructed.value.toString(), "pathlib.PosixPath");

    // A tensor of 10 elements over a storage of 4; a persistent id in a plain pickle.
    const std::string tensor = "\x80\x02\x63torch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00"
                               "storage\x63torch\nFloatStorage\nX\x01\x00\x00\x00"
                               "0X\x03\x00\x00\x00"
                               "cpuK\x04tQK\x00K\x0a\x85K\x01\x85\x89NtR."s;
    EXPECT_NE(unpickleError(tensor, true).find("reaches element 9 of storage '0' of 4"),
              std::string::npos);
    EXPECT_NE(unpickleError(tensor, false).find("persistent id"), std::string::npos);
}

TEST(TorchCheckpoint, DamagedFilesAreNamed)
{
    mp::test::TempDir dir("mp_ckpt");
    std::ifstream in(checkpointGoldenDir() / "lightning.ckpt", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::size_t cut : {bytes.size() / 3, bytes.size() - 30, std::size_t(10)}) {
        const auto path = dir / ("cut.ckpt");
        std::ofstream(path, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(cut));
        const auto message = inputError([&] { mp::readTorchCheckpoint(path); });
        EXPECT_NE(message.find("cut.ckpt"), std::string::npos) << cut;
    }
    std::ofstream(dir / "text.tar") << "not a checkpoint";
    EXPECT_NE(inputError([&] {
                  mp::readTorchCheckpoint(dir / "text.tar");
              }).find("not a PyTorch checkpoint"),
              std::string::npos);
    EXPECT_NE(inputError([&] { mp::readTorchCheckpoint(dir / "missing.pt"); }).find("missing"),
              std::string::npos);
}

TEST(TorchCheckpoint, BigEndianIsRefusedByName)
{
    mp::test::TempDir dir("mp_ckpt");
    std::ifstream in(checkpointGoldenDir() / "tensors.pt", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = bytes.find("little");
    ASSERT_NE(at, std::string::npos);
    bytes.replace(at, 6, "bigend");
    std::ofstream(dir / "big.pt", std::ios::binary) << bytes;
    EXPECT_NE(inputError([&] { mp::readTorchCheckpoint(dir / "big.pt"); }).find("byte order"),
              std::string::npos);
}

// Random byte flips anywhere in a torch.save file (zip directory and headers, or the legacy
// stream; the pickle; storages): reading it and its tensors either succeeds or is an InputError.
TEST(TorchCheckpoint, RandomDamageNeverCrashes)
{
    mp::test::TempDir dir("mp_ckpt");
    std::mt19937 rng(9);
    for (const char *name : {"tensors.pt", "tensors_legacy.pt"}) {
        std::ifstream in(checkpointGoldenDir() / name, std::ios::binary);
        const std::string file((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        int failures = 0;
        for (int trial = 0; trial < 300; ++trial) {
            auto damaged = file;
            for (int flips = 1 + trial % 3; flips > 0; --flips)
                damaged[rng() % damaged.size()] = static_cast<char>(rng());
            std::ofstream(dir / "d.pt", std::ios::binary | std::ios::trunc) << damaged;
            try {
                const auto checkpoint = mp::readTorchCheckpoint(dir / "d.pt");
                for (const char *path : {"dtypes", "views", "nested/a/b"})
                    checkpoint.tensors(path);
            } catch (const mp::InputError &) {
                ++failures;
            }
        }
        EXPECT_GT(failures, 0) << name;
    }
}

// Random byte flips in a real data.pkl: each read either succeeds or throws InputError.
TEST(PickleFile, RandomDamageNeverCrashes)
{
    std::ifstream in(checkpointGoldenDir() / "lightning.ckpt", std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto begin = file.find("\x80\x02");
    const auto end = file.find("PK", begin);
    ASSERT_NE(begin, std::string::npos);
    const std::string pickle = file.substr(begin, end - begin);
    std::mt19937 rng(5);
    int failures = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        auto damaged = pickle;
        for (int flips = 1 + trial % 4; flips > 0; --flips)
            damaged[rng() % damaged.size()] = static_cast<char>(rng());
        if (trial % 3 == 0)
            damaged.resize(rng() % damaged.size());
        try {
            mp::unpickle(reinterpret_cast<const std::uint8_t *>(damaged.data()), damaged.size(), 0,
                         "damaged", {.allowPersistentIds = true});
        } catch (const mp::InputError &) {
            ++failures;
        }
    }
    EXPECT_GT(failures, 1000);
}

} // namespace
