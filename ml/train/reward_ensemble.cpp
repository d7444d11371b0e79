#include "ml/train/reward_ensemble.h"

#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "ml/core/atomic_write.h"
#include "ml/core/error.h"
#include "ml/core/json_read.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/train/logprobs.h"
#include "ml/train/preference_data.h"

namespace fs = std::filesystem;

namespace mp {

RewardEnsembleManifest readRewardEnsembleManifest(const fs::path &directory)
{
    const fs::path path = directory / kEnsembleManifest;
    const std::string source = path.string();
    std::ifstream in(path);
    if (!in)
        throw InputError(source + ": missing; " + directory.string() +
                         " is not a reward-model ensemble (`study next-round` trains one when "
                         "the study's rule is ensemble)");
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json json;
    try {
        json = parseJsonLimited(source, text.str());
    } catch (const nlohmann::json::parse_error &error) {
        throw InputError(source + ": not valid JSON (" + error.what() + ")");
    }
    if (!json.is_object())
        throw InputError(source + ": not a JSON object");
    RewardEnsembleManifest manifest;
    std::vector<std::string> members;
    readOptionalKey(json, "members", members, source);
    readOptionalKey(json, "seeds", manifest.seeds, source);
    readOptionalKey(json, "labels", manifest.labels, source);
    readOptionalKey(json, "pairs", manifest.pairs, source);
    if (members.size() < static_cast<std::size_t>(kMinEnsembleMembers) ||
        members.size() > static_cast<std::size_t>(kMaxEnsembleMembers))
        throw InputError(source + ": 'members' must list " + std::to_string(kMinEnsembleMembers) +
                         " to " + std::to_string(kMaxEnsembleMembers) + " members (got " +
                         std::to_string(members.size()) + ")");
    for (const std::string &member : members) {
        const fs::path relative(member);
        if (member.empty() || relative.is_absolute() || member.find("..") != std::string::npos)
            throw InputError(source + ": member '" + member +
                             "' must be a folder inside the ensemble's");
        manifest.members.push_back(relative);
    }
    return manifest;
}

void writeRewardEnsembleManifest(const fs::path &directory, const RewardEnsembleManifest &manifest)
{
    nlohmann::json json;
    json["members"] = nlohmann::json::array();
    for (const fs::path &member : manifest.members)
        json["members"].push_back(member.generic_string());
    json["seeds"] = manifest.seeds;
    json["labels"] = manifest.labels;
    json["pairs"] = manifest.pairs;
    writeFileAtomically(directory / kEnsembleManifest, json.dump(2) + "\n");
}

RewardEnsemble::RewardEnsemble(const fs::path &directory, const fs::path &bundleDir,
                               const c10::Device &device)
    : m_directory(directory)
{
    const RewardEnsembleManifest manifest = readRewardEnsembleManifest(directory);
    for (const fs::path &member : manifest.members) {
        Member loaded;
        loaded.bundle = std::make_unique<ModelBundle>(bundleDir, device);
        if (!loraLayers(*loaded.bundle->t5()).empty())
            throw InputError(bundleDir.string() +
                             ": the model already carries an adapter; a reward model needs the "
                             "base model");
        loaded.model = RewardModel(loaded.bundle->t5());
        loaded.model->load(resolveRewardModelDir(directory / member));
        loaded.model->to(device);
        loaded.model->eval();
        m_members.push_back(std::move(loaded));
    }
}

RewardEnsemble::~RewardEnsemble() = default;

std::vector<std::vector<double>>
RewardEnsemble::rewards(const std::string &prompt,
                        const std::vector<std::vector<std::int64_t>> &codes)
{
    std::vector<std::vector<double>> out;
    if (codes.empty())
        return std::vector<std::vector<double>>(m_members.size());
    torch::NoGradGuard noGrad;
    const auto k = static_cast<std::int64_t>(codes.size());
    for (Member &member : m_members) {
        const ModelBundle &bundle = *member.bundle;
        const auto device = bundle.device();
        const at::Tensor promptIds = torch::tensor(bundle.encodePrompt(prompt), torch::kLong)
                                         .unsqueeze(0)
                                         .repeat({k, 1})
                                         .to(device);
        std::vector<std::vector<std::int64_t>> rows;
        for (const auto &sample : codes)
            rows.push_back(motionLabels(bundle.tokenizer(), sample,
                                        static_cast<std::int64_t>(sample.size()) + 3));
        const at::Tensor labels = padRows(rows, kIgnoreLabel).to(device);
        const at::Tensor scores =
            member.model->score(promptIds, torch::ones_like(promptIds), labels)
                .to(torch::kCPU, torch::kDouble)
                .contiguous();
        out.emplace_back(scores.data_ptr<double>(), scores.data_ptr<double>() + k);
    }
    return out;
}

} // namespace mp
