#include "ml/eval/t2m_import.h"

#include "ml/core/error.h"
#include "ml/data/normalizer.h"
#include "ml/data/npy.h"
#include "ml/data/pickle_reader.h"
#include "ml/data/torch_checkpoint.h"
#include "ml/motion/features.h"

#include <torch/torch.h>

#include <unordered_map>

namespace mp {
namespace {

// The three sub-dicts of finest.tar, in the order T2M's build_models loads them.
constexpr const char *kParts[] = {"text_encoder", "movement_encoder", "motion_encoder"};

const at::Tensor &tensorOf(const std::map<std::string, at::Tensor> &tensors,
                           const std::string &name, std::int64_t dims, const std::string &source)
{
    const auto it = tensors.find(name);
    if (it == tensors.end())
        throw InputError(source + ": missing tensor '" + name + "'");
    if (it->second.dim() != dims)
        throw InputError(source + ": tensor '" + name + "' has " +
                         std::to_string(it->second.dim()) + " dims, expected " +
                         std::to_string(dims));
    return it->second;
}

std::filesystem::path firstExisting(const std::filesystem::path &dir,
                                    std::initializer_list<const char *> names)
{
    for (const char *name : names)
        if (std::filesystem::exists(dir / name))
            return dir / name;
    throw InputError(dir.string() + ": no " + *names.begin() + " (the evaluator's statistics)");
}

} // namespace

EvaluatorConfig t2mConfigFromShapes(const std::map<std::string, at::Tensor> &tensors,
                                    std::int64_t vocabSize, const std::string &source)
{
    auto size = [&](const std::string &name, std::int64_t dims, int axis) {
        return tensorOf(tensors, name, dims, source).size(axis);
    };
    EvaluatorConfig c = EvaluatorConfig::t2m(vocabSize);
    c.dimWord = size("text_encoder.pos_emb.weight", 2, 0);
    c.dimPosOneHot = size("text_encoder.pos_emb.weight", 2, 1);
    c.dimTextHidden = size("text_encoder.input_emb.weight", 2, 0);
    c.dimCoemb = size("text_encoder.output_net.3.weight", 2, 0);
    c.dimMotionInput = size("movement_encoder.main.0.weight", 3, 1);
    c.dimMovementHidden = size("movement_encoder.main.0.weight", 3, 0);
    c.dimMovementLatent = size("movement_encoder.main.3.weight", 3, 0);
    c.dimMotionHidden = size("motion_encoder.input_emb.weight", 2, 0);
    c.vipLists = VipLists::T2m;
    c.packMotion = true;
    if (c.dimPosOneHot != kEvalPosClasses)
        throw InputError(source + ": text_encoder.pos_emb.weight takes " +
                         std::to_string(c.dimPosOneHot) + " POS classes, T2M has " +
                         std::to_string(kEvalPosClasses));
    if (c.dimMotionInput != kFeatureDim - 4)
        throw InputError(source + ": movement_encoder.main.0.weight reads " +
                         std::to_string(c.dimMotionInput) + " features, expected " +
                         std::to_string(kFeatureDim - 4) + " (HumanML3D's 263 minus the contacts)");
    if (size("motion_encoder.input_emb.weight", 2, 1) != c.dimMovementLatent ||
        size("motion_encoder.output_net.3.weight", 2, 0) != c.dimCoemb)
        throw InputError(source + ": the motion encoder's shapes do not fit the movement encoder's "
                                  "output or the text encoder's embedding size");
    return c;
}

WordVocabulary readT2mGlove(const std::filesystem::path &dir)
{
    const auto dataPath = dir / "our_vab_data.npy";
    const auto wordsPath = dir / "our_vab_words.pkl";
    const auto indexPath = dir / "our_vab_idx.pkl";
    const auto data = npy::read(dataPath).to(torch::kFloat32);
    if (data.dim() != 2 || data.size(0) < 1)
        throw InputError(dataPath.string() + ": expected (words, dim) vectors");
    const auto words = readPickleFile(wordsPath);
    if (!words.is(PickleValue::Kind::List))
        throw InputError(wordsPath.string() + ": expected a pickled list of words, found " +
                         PickleValue::kindName(words.kind()));
    const auto index = readPickleFile(indexPath);
    if (!index.is(PickleValue::Kind::Dict))
        throw InputError(indexPath.string() + ": expected a pickled dict word -> row, found " +
                         PickleValue::kindName(index.kind()));
    std::unordered_map<std::string, std::int64_t> rowOf;
    for (const auto &[key, value] : index.toDict()) {
        if (!key.is(PickleValue::Kind::String) || !value.is(PickleValue::Kind::Int))
            throw InputError(indexPath.string() + ": an entry is not str -> int");
        rowOf[key.toString()] = value.toInt();
    }

    std::vector<std::string> kept;
    std::vector<std::int64_t> rows;
    std::unordered_map<std::string, bool> seen;
    for (const auto &item : words.toList()) {
        if (!item.is(PickleValue::Kind::String))
            throw InputError(wordsPath.string() + ": an entry is not a string");
        const auto &word = item.toString();
        if (!seen.emplace(word, true).second)
            continue; // T2M's dict keeps one entry per word
        const auto it = rowOf.find(word);
        if (it == rowOf.end())
            throw InputError(indexPath.string() + ": no row for the word '" + word + "' of " +
                             wordsPath.filename().string());
        if (it->second < 0 || it->second >= data.size(0))
            throw InputError(indexPath.string() + ": row " + std::to_string(it->second) + " of '" +
                             word + "' is outside " + dataPath.string() + "'s " +
                             std::to_string(data.size(0)) + " rows");
        kept.push_back(word);
        rows.push_back(it->second);
    }
    if (!seen.count("unk"))
        throw InputError(wordsPath.string() + ": no 'unk' word (T2M maps unknown words to it)");
    const auto unkRow = rowOf.at("unk");
    for (const char *special : {"sos", "eos"})
        if (!seen.count(special)) {
            kept.emplace_back(special);
            rows.push_back(unkRow);
        }
    const auto vectors = data.index_select(0, torch::tensor(rows, torch::kLong));
    return WordVocabulary::fromVectors(std::move(kept), vectors, wordsPath.string());
}

T2mImportSummary importT2mEvaluator(const T2mEvaluatorImport &options)
{
    const auto source = options.checkpoint.string();
    const auto checkpoint = readTorchCheckpoint(options.checkpoint);
    std::map<std::string, at::Tensor> tensors;
    for (const char *part : kParts)
        for (auto &[name, tensor] : checkpoint.tensors(part))
            tensors.emplace(std::string(part) + "." + name, tensor.to(torch::kFloat32));

    const auto vocabulary = readT2mGlove(options.gloveDir);
    T2mImportSummary summary;
    summary.config = t2mConfigFromShapes(tensors, vocabulary.size(), source);
    if (vocabulary.vectors().size(1) != summary.config.dimWord)
        throw InputError((options.gloveDir / "our_vab_data.npy").string() + ": " +
                         std::to_string(vocabulary.vectors().size(1)) +
                         "-d word vectors, the checkpoint's text encoder takes " +
                         std::to_string(summary.config.dimWord));
    if (const auto *epoch = checkpoint.root().find("epoch");
        epoch && epoch->is(PickleValue::Kind::Int))
        summary.epoch = epoch->toInt();

    const auto stats = Normalizer::load(firstExisting(options.metaDir, {"mean.npy", "Mean.npy"}),
                                        firstExisting(options.metaDir, {"std.npy", "Std.npy"}));
    if (stats.mean().numel() != kFeatureDim || stats.std().numel() != kFeatureDim)
        throw InputError(options.metaDir.string() + ": mean/std must have " +
                         std::to_string(kFeatureDim) + " values");

    TextMotionEvaluator evaluator(summary.config);
    loadEvaluatorStateDict(*evaluator, tensors, source, /*allowMissing=*/"word_emb.");
    evaluator->setWordVectors(vocabulary.vectors());
    saveEvaluator(options.out, *evaluator, vocabulary, stats.mean(), stats.std());
    return summary;
}

} // namespace mp
