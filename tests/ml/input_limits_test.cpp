// Limits on what a file claims (issue 20): a header asking for 100 GB, a BVH with a million
// joints, a frame count past what memory holds, a megabyte prompt, a pickle or JSON nested a
// million levels. Each is an InputError naming the file and the problem, found before any
// allocation the size of the claim and without recursing once per level (the sanitizer build
// and the fuzz targets of tests/fuzz would report either).

#include "app/export/bvh_motion.h"
#include "app/export/bvh_reader.h"
#include "ml/core/error.h"
#include "ml/core/error_message.h"
#include "ml/data/npy.h"
#include "ml/data/pickle_reader.h"
#include "ml/data/safetensors.h"
#include "ml/data/torch_checkpoint.h"
#include "ml/models/lora.h"
#include "ml/models/tokenizer.h"
#include "ml/run/events.h"
#include "ml/run/run_config.h"
#include "tests/ml/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

namespace {

using mp::test::TempDir;
using namespace std::string_literals;

void writeFile(const std::filesystem::path &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

// The call throws an InputError whose message holds every one of the fragments.
void expectInputErrorParts(const std::function<void()> &call,
                           std::initializer_list<std::string> parts)
{
    try {
        call();
    } catch (const mp::InputError &e) {
        const std::string message = e.what();
        for (const auto &part : parts)
            EXPECT_NE(message.find(part), std::string::npos)
                << "'" << message << "' lacks '" << part << "'";
        return;
    }
    ADD_FAILURE() << "no InputError";
}

std::string le(std::uint64_t value, int bytes)
{
    std::string out;
    for (int i = 0; i < bytes; ++i)
        out += static_cast<char>((value >> (8 * i)) & 0xff);
    return out;
}

std::string npyWithHeader(const std::string &dict, int version = 1)
{
    std::string header = dict;
    const std::size_t prefix = version == 1 ? 10 : 12;
    while ((prefix + header.size() + 1) % 64 != 0)
        header += ' ';
    header += '\n';
    return std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0' +
           le(header.size(), version == 1 ? 2 : 4) + header;
}

// A zip of stored entries, as torch.save writes one.
std::string storedZip(const std::vector<std::pair<std::string, std::string>> &entries,
                      std::uint64_t claimedSizeOfLast = 0)
{
    std::string body, directory;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto &[name, data] = entries[i];
        const std::uint64_t size =
            i + 1 == entries.size() && claimedSizeOfLast ? claimedSizeOfLast : data.size();
        const std::uint64_t offset = body.size();
        body += "PK\3\4" + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + le(size, 4) +
                le(size, 4) + le(name.size(), 2) + le(0, 2) + name + data;
        directory += "PK\1\2" + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) +
                     le(size, 4) + le(size, 4) + le(name.size(), 2) + le(0, 2) + le(0, 2) +
                     le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + name;
    }
    return body + directory + "PK\5\6" + le(0, 2) + le(0, 2) + le(entries.size(), 2) +
           le(entries.size(), 2) + le(directory.size(), 4) + le(body.size(), 4) + le(0, 2);
}

// torch.save's data.pkl: {"w": a float tensor of `numel` elements over storage "0"}.
std::string tensorPickle(std::uint64_t numel)
{
    const std::string longNumel = "\x8a\x05"s + le(numel, 5); // LONG1, 5 bytes
    return "\x80\x02}X\x01\0\0\0w"s + "ctorch._utils\n_rebuild_tensor_v2\n("s +
           "(X\x07\0\0\0storagectorch\nFloatStorage\nX\x01\0\0\0"s + "0"s + "X\x03\0\0\0cpu"s +
           longNumel + "tQK\0("s + longNumel + "t(K\x01t\x89"s +
           "ccollections\nOrderedDict\n)RtRs."s;
}

TEST(InputLimits, NpyShapeOf800GigabytesIsRefusedBeforeAllocating)
{
    const auto bytes =
        npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 10), }");
    expectInputErrorParts([&] { mp::npy::fromBytes(bytes + std::string(64, '\0'), "big.npy"); },
                          {"big.npy", "truncated", "(100000,100000,10)", "800000000000"});
}

TEST(InputLimits, NpyHeaderLengthOf4GigabytesIsNotRead)
{
    TempDir dir;
    // Version 2.0 with a header length of 0xfffffff0 bytes: readHeader reads no further than the
    // file holds (it used to resize a buffer to the announced length first).
    std::string bytes = std::string("\x93NUMPY\x02\x00", 8) + le(0xfffffff0u, 4) +
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
    writeFile(dir / "claims.npy", bytes);
    expectInputErrorParts([&] { mp::npy::readHeader(dir / "claims.npy"); },
                          {"claims.npy", "truncated .npy header", "4294967280 bytes announced"});
}

TEST(InputLimits, SafetensorsOffsetsOf100GigabytesAreRefused)
{
    TempDir dir;
    const std::string header =
        R"({"w": {"dtype": "F32", "shape": [25000000000], "data_offsets": [0, 100000000000]}})";
    writeFile(dir / "big.safetensors", le(header.size(), 8) + header + std::string(16, '\0'));
    expectInputErrorParts([&] { mp::SafetensorsReader reader(dir / "big.safetensors"); },
                          {"big.safetensors", "tensor 'w'", "run past the data"});
}

TEST(InputLimits, CheckpointStorageOf100GigabytesIsRefusedBeforeAllocating)
{
    TempDir dir;
    writeFile(dir / "big.pt", storedZip({{"archive/data.pkl", tensorPickle(25000000000ull)},
                                         {"archive/data/0", std::string(16, '\0')}}));
    expectInputErrorParts(
        [&] {
            const mp::TorchCheckpoint checkpoint(dir / "big.pt");
            checkpoint.tensors("");
        },
        {"big.pt", "storage '0'", "25000000000"});
}

TEST(InputLimits, ZipEntryOf100GigabytesIsRefused)
{
    TempDir dir;
    // A zip32 size field holds at most 4 GiB; the entry claims that, the file holds 16 bytes.
    writeFile(dir / "big.pt", storedZip({{"archive/data.pkl", tensorPickle(4)},
                                         {"archive/data/0", std::string(16, '\0')}},
                                        0xffffff00u));
    expectInputErrorParts(
        [&] {
            const mp::TorchCheckpoint checkpoint(dir / "big.pt");
            checkpoint.tensors("");
        },
        {"big.pt", "past the end of the file"});
}

TEST(InputLimits, PickleNestedAMillionLevelsIsRefused)
{
    // A million empty lists, each appended to the one before: [[[[...]]]].
    std::string nested = "\x80\x02";
    for (int i = 0; i < 1000000; ++i)
        nested += "]";
    for (int i = 0; i < 999999; ++i)
        nested += "a";
    nested += ".";
    const auto *data = reinterpret_cast<const std::uint8_t *>(nested.data());
    expectInputErrorParts([&] { mp::unpickle(data, nested.size(), 0, "deep.pkl"); },
                          {"deep.pkl", "nested deeper than 64"});
    // A million MARKs (tuples opened and never closed).
    std::string marks = "\x80\x02" + std::string(1000000, '(') + ".";
    const auto *markData = reinterpret_cast<const std::uint8_t *>(marks.data());
    expectInputErrorParts([&] { mp::unpickle(markData, marks.size(), 0, "marks.pkl"); },
                          {"marks.pkl"});
}

std::string jsonNestedAMillionLevels()
{
    return std::string(1000000, '[') + std::string(1000000, ']');
}

TEST(InputLimits, JsonNestedAMillionLevelsIsRefused)
{
    const std::string deep = jsonNestedAMillionLevels();
    expectInputErrorParts([&] { mp::parseRunConfig(R"({"epochs": )" + deep + "}", "run.json"); },
                          {"run.json", "JSON nested deeper than 100 levels"});
    TempDir dir;
    writeFile(dir / "adapter_config.json", R"({"r": )" + deep + "}");
    expectInputErrorParts([&] { mp::LoraConfig::read(dir.path()); },
                          {"adapter_config.json", "JSON nested deeper than 100 levels"});
    const std::string header = R"({"w": )" + deep + "}";
    writeFile(dir / "deep.safetensors", le(header.size(), 8) + header);
    expectInputErrorParts([&] { mp::SafetensorsReader reader(dir / "deep.safetensors"); },
                          {"deep.safetensors"});
    writeFile(dir / "events.jsonl", R"({"type": "step", "step": 1, "metrics": )" + deep + "}\n");
    EXPECT_NO_THROW(mp::readEvents(dir / "events.jsonl")); // a bad line is skipped, not fatal
}

TEST(InputLimits, JsonValueInAnErrorMessageIsCut)
{
    // A wrong-typed value is quoted in the message, at most 80 characters of it.
    std::string longList = "[";
    for (int i = 0; i < 20000; ++i)
        longList += "\"x\",";
    longList += "1]";
    try {
        mp::parseRunConfig(R"({"lora": {"target_modules": 5, "r": )" + longList + "}}", "run.json");
        ADD_FAILURE() << "no InputError";
    } catch (const mp::InputError &e) {
        EXPECT_LT(std::string(e.what()).size(), 400u) << e.what();
    }
}

TEST(InputLimits, HugeErrorMessageIsCutAtACharacterBoundaryKeepingTheFileName)
{
    // nlohmann's syntax error quotes a 100,000-digit number whole: the CLI's line and the GUI's
    // message boxes show shortenedMessage of it.
    std::string what;
    try {
        mp::parseRunConfig("{\"epochs\": " + std::string(100000, '9') + "}", "run.json");
        ADD_FAILURE() << "no error";
    } catch (const std::exception &e) {
        what = e.what();
    }
    ASSERT_GT(what.size(), 100000u); // the message as the parser words it
    const std::string cut = mp::shortenedMessage(what);
    EXPECT_EQ(cut.rfind("run.json: ", 0), 0u) << cut.substr(0, 80);
    EXPECT_LE(cut.size(), mp::kMaxErrorMessageBytes + 30);
    EXPECT_NE(cut.find("more bytes)"), std::string::npos);

    // Two-byte characters across the cut: the result ends on a whole character.
    std::string accents;
    for (int i = 0; i < 1000; ++i)
        accents += "\xc3\xa9"; // U+00E9
    const std::string cutAccents = mp::shortenedMessage("x" + accents, 1000);
    const std::size_t kept = cutAccents.find("... (");
    ASSERT_NE(kept, std::string::npos);
    EXPECT_EQ(kept % 2, 1u); // "x" + whole two-byte characters
    EXPECT_EQ(cutAccents.substr(kept), "... (1002 more bytes)");
    EXPECT_EQ(mp::shortenedMessage("short"), "short");
}

TEST(InputLimits, BvhWithAMillionNestedJointsIsRefused)
{
    std::string text =
        "HIERARCHY\nROOT j\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n";
    for (int i = 0; i < 1000000; ++i)
        text += "JOINT j" + std::to_string(i) + "\n{\nOFFSET 0 1 0\n";
    expectInputErrorParts([&] { mp::parseBvh(text, "deep.bvh"); },
                          {"deep.bvh:", "nested deeper than 256 levels"});
}

TEST(InputLimits, BvhWithAMillionJointsIsRefused)
{
    std::string text =
        "HIERARCHY\nROOT j\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n";
    for (int i = 0; i < 1000000; ++i)
        text += "JOINT j" + std::to_string(i) +
                "\n{\nOFFSET 0 1 0\nCHANNELS 6 Xposition Yposition Zposition Xrotation "
                "Yrotation Zrotation\n}\n";
    text += "}\nMOTION\nFrames: 1\nFrame Time: 0.05\n0 0 0\n";
    expectInputErrorParts([&] { mp::parseBvh(text, "wide.bvh"); },
                          {"wide.bvh:50001: more than 10000 joints"});
}

TEST(InputLimits, BvhFrameCountPastMemoryIsTruncatedNotAllocated)
{
    // 100 million frames of 69 channels would be 55 GB of doubles; the file holds one line.
    std::string text = "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\n"
                       "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n";
    for (int i = 0; i < 21; ++i)
        text += "JOINT j" + std::to_string(i) +
                "\n{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation "
                "Xrotation Yrotation\n}\n";
    text += "}\nMOTION\nFrames: 100000000\nFrame Time: 0.05\n";
    for (int i = 0; i < 69; ++i)
        text += "0 ";
    text += "\n";
    expectInputErrorParts([&] { mp::parseBvh(text, "long.bvh"); },
                          {"long.bvh", "truncated: 'Frames: 100000000'", "only 1 motion lines"});
}

TEST(InputLimits, MegabytePromptIsRefused)
{
    const char *source = std::getenv("MP_SOURCE_DIR");
    ASSERT_TRUE(source) << "MP_SOURCE_DIR is not set (ctest sets it to the checkout)";
    const mp::Tokenizer tokenizer(std::filesystem::path(source) /
                                      "resources/models/default/spiece.model",
                                  mp::MotionTokenLayout{.textVocabSize = 369});
    EXPECT_GT(tokenizer.encodeText("a person walks forward").size(), 1u);
    expectInputErrorParts([&] { tokenizer.encodeText(std::string(1 << 20, 'a')); },
                          {"a prompt of 1048576 bytes", "at most 65536"});
}

} // namespace
