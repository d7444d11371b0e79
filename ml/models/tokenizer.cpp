#include "ml/models/tokenizer.h"

#include "ml/core/error.h"

#include "ml/models/sentencepiece.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace mp {

nlohmann::json MotionTokenLayout::toJson() const
{
    return {{"text_vocab_size", textVocabSize},
            {"num_motion_codes", numMotionCodes},
            {"som_id", somId()},
            {"eom_id", eomId()},
            {"mask_id", maskId()},
            {"vocab_size", vocabSize()}};
}

MotionTokenLayout MotionTokenLayout::fromJson(const nlohmann::json &json, const std::string &source)
{
    MotionTokenLayout layout;
    try {
        layout.textVocabSize = json.at("text_vocab_size").get<std::int64_t>();
        layout.numMotionCodes = json.at("num_motion_codes").get<std::int64_t>();
    } catch (const nlohmann::json::exception &) {
        throw InputError(source + ": tokens needs integer text_vocab_size and num_motion_codes");
    }
    if (layout.textVocabSize <= 3 || layout.numMotionCodes <= 0)
        throw InputError(source + ": text_vocab_size and num_motion_codes must be positive");
    // The derived ids, when written, must agree: a bundle made for another layout is refused.
    auto check = [&](const char *key, std::int64_t expected) {
        if (json.contains(key) && json[key] != expected)
            throw InputError(source + ": tokens." + key + " is " + json[key].dump() +
                             ", expected " + std::to_string(expected) + " for this layout");
    };
    check("som_id", layout.somId());
    check("eom_id", layout.eomId());
    check("mask_id", layout.maskId());
    check("vocab_size", layout.vocabSize());
    return layout;
}

Tokenizer::Tokenizer(const std::filesystem::path &spmModel, const MotionTokenLayout &layout)
    : m_layout(layout)
{
    const auto name = spmModel.filename().string();
    if (!std::filesystem::exists(spmModel))
        throw InputError(spmModel.string() + ": missing");
    m_model = std::make_unique<SentencePieceModel>(spmModel);
    m_eosId = m_model->pieceId("</s>");
    if (m_eosId < 0)
        throw InputError(name + ": the model has no </s> piece (train it with eos_id=1)");
    m_unkId = m_model->unkId();
    const auto pad = m_model->pieceId("<pad>");
    m_padId = pad >= 0 ? pad : 0;
    if (numPieces() > layout.textVocabSize)
        throw InputError(name + ": " + std::to_string(numPieces()) +
                         " pieces do not fit the text vocabulary of " +
                         std::to_string(layout.textVocabSize) + " ids before the motion tokens");
}

Tokenizer::~Tokenizer() = default;

std::int64_t Tokenizer::numPieces() const
{
    return m_model->size();
}

std::vector<std::int64_t> Tokenizer::encodeText(std::string_view text, std::int64_t maxLength) const
{
    if (text.size() > kMaxTextBytes)
        throw InputError("a prompt of " + std::to_string(text.size()) + " bytes (at most " +
                         std::to_string(kMaxTextBytes) + ")");
    auto ids = m_model->encode(text);
    if (maxLength > 0 && static_cast<std::int64_t>(ids.size()) > maxLength - 1)
        ids.resize(static_cast<std::size_t>(std::max<std::int64_t>(0, maxLength - 1)));
    ids.push_back(m_eosId);
    return ids;
}

std::string Tokenizer::decodeText(const std::vector<std::int64_t> &ids) const
{
    std::vector<std::int64_t> text;
    for (auto id : ids)
        if (id >= 0 && id < numPieces())
            text.push_back(id);
    return m_model->decode(text);
}

std::vector<std::int64_t> Tokenizer::encodeMotion(const std::vector<std::int64_t> &codes) const
{
    std::vector<std::int64_t> ids;
    ids.reserve(codes.size() + 2);
    ids.push_back(m_layout.somId());
    for (auto code : codes) {
        if (code < 0 || code >= m_layout.numMotionCodes)
            throw std::invalid_argument("motion code " + std::to_string(code) +
                                        " outside the codebook of " +
                                        std::to_string(m_layout.numMotionCodes));
        ids.push_back(m_layout.motionId(code));
    }
    ids.push_back(m_layout.eomId());
    return ids;
}

DecodedMotion Tokenizer::decodeMotion(const std::vector<std::int64_t> &ids) const
{
    DecodedMotion result;
    const auto som = std::find(ids.begin(), ids.end(), m_layout.somId());
    const auto eom = som == ids.end() ? ids.end() : std::find(som + 1, ids.end(), m_layout.eomId());
    if (som != ids.end() && eom != ids.end()) {
        result.foundMarkers = true;
        for (auto it = som + 1; it != eom; ++it)
            if (m_layout.isMotionToken(*it))
                result.codes.push_back(
                    std::min(*it - m_layout.textVocabSize, m_layout.numMotionCodes - 1));
    }
    if (result.codes.empty())
        result.codes = {0};
    return result;
}

std::string Tokenizer::tokenName(std::int64_t id) const
{
    if (m_layout.isMotionToken(id))
        return "<motion_id_" + std::to_string(id - m_layout.textVocabSize) + ">";
    if (id >= 0 && id < numPieces())
        return m_model->piece(id).text;
    return "<id_" + std::to_string(id) + ">";
}

void trainSentencePiece(const std::vector<std::string> &sentences,
                        const std::filesystem::path &outputModel,
                        const SentencePieceTrainOptions &options)
{
    if (sentences.empty())
        throw InputError("SentencePiece training: no sentences");
    // The trainer reads a file; write the sentences next to the output, one per line.
    auto prefix = outputModel;
    prefix.replace_extension();
    const auto input = prefix.string() + ".train-" + std::to_string(::getpid()) + ".txt";
    {
        std::ofstream out(input);
        for (const auto &s : sentences) {
            std::string line = s;
            std::replace(line.begin(), line.end(), '\n', ' ');
            out << line << '\n';
        }
        if (!out)
            throw InputError(input + ": cannot write");
    }
    const auto tmpPrefix = prefix.string() + ".tmp-" + std::to_string(::getpid());
    const std::vector<std::string> args = {
        "spm_train",
        "--input=" + input,
        "--model_prefix=" + tmpPrefix,
        "--vocab_size=" + std::to_string(options.vocabSize),
        "--model_type=" + options.modelType,
        "--pad_id=0",
        "--eos_id=1",
        "--unk_id=2",
        "--bos_id=-1",
        "--character_coverage=1.0",
        std::string("--hard_vocab_limit=") + (options.hardVocabLimit ? "true" : "false"),
        "--minloglevel=2",
    };
    std::vector<char *> argv;
    for (const auto &a : args)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    // Its log goes to a file next to the model, read back on failure.
    const auto logPath = tmpPrefix + ".log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, "spm_train", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    if (spawned == 0)
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    std::filesystem::remove(input);
    std::filesystem::remove(tmpPrefix + ".vocab");
    std::string log;
    {
        std::ifstream in(logPath);
        log.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        std::filesystem::remove(logPath);
    }
    if (spawned != 0)
        throw InputError("SentencePiece training: cannot run spm_train (" +
                         std::string(std::strerror(spawned)) +
                         "); install the 'sentencepiece' package");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::filesystem::remove(tmpPrefix + ".model");
        if (log.size() > 2000)
            log = log.substr(log.size() - 2000);
        throw InputError("SentencePiece training failed: " + log);
    }
    std::error_code ec;
    std::filesystem::rename(tmpPrefix + ".model", outputModel, ec);
    if (ec)
        throw InputError(outputModel.string() + ": cannot write: " + ec.message());
}

} // namespace mp
