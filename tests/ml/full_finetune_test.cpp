// Full fine-tuning through T5Policy (fullFineTuning): every T5 weight trains, the reference is a
// frozen copy of the model as it was (untouched by training), the DPO loss starts at log 2, and
// a run resumed from a checkpoint ends with the weights of the uninterrupted run.
#include "ml/core/error.h"
#include "ml/models/lora.h"
#include "ml/models/t5.h"
#include "ml/models/t5_config.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/t5_policy.h"
#include "tiny_t5.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<mp::PreferenceBatch> batches(int count)
{
    torch::manual_seed(11);
    std::vector<mp::PreferenceBatch> out;
    for (int i = 0; i < count; ++i)
        out.push_back(mp::test::styledPreferenceBatch(8));
    return out;
}

mp::T5Model baseModel()
{
    torch::manual_seed(5); // the same "base" every time
    return mp::T5Model(mp::test::tinyPolicyT5Config());
}

mp::DpoTrainerOptions options()
{
    return {.loss = {.type = mp::DpoLossType::Sigmoid, .beta = 0.5},
            .optimizer = {.lr = 0.01},
            .schedule = mp::ScheduleKind::Cosine,
            .warmupSteps = 1,
            .totalSteps = 6};
}

at::Tensor logitsOf(mp::PolicyModel &policy, const mp::PreferenceBatch &probe)
{
    torch::NoGradGuard noGrad;
    const at::Tensor labels = mp::concatenatedLabels(probe.chosenLabels, probe.rejectedLabels);
    return policy.forward(probe.promptIds.repeat({2, 1}), probe.promptMask.repeat({2, 1}), labels);
}

std::map<std::string, at::Tensor> snapshot(torch::nn::Module &module)
{
    std::map<std::string, at::Tensor> out;
    for (const auto &item : module.named_parameters())
        out[item.key()] = item.value().detach().clone();
    return out;
}

TEST(FullFineTuning, EveryWeightTrainsAndTheReferenceStaysTheBase)
{
    mp::T5Model model = baseModel();
    const auto before = snapshot(*model);
    mp::T5Policy policy(model, {.fullFineTuning = true});
    EXPECT_EQ(policy.trainableParameters().size(), model->parameters().size());
    for (const auto &parameter : policy.reference()->parameters())
        EXPECT_FALSE(parameter.requires_grad());

    const mp::PreferenceBatch probe = batches(1).front();
    policy.setAdapterEnabled(false);
    const at::Tensor referenceBefore = logitsOf(policy, probe);
    policy.setAdapterEnabled(true);

    mp::DpoTrainer trainer(policy, options());
    const auto data = batches(6);
    double first = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        const double loss = trainer.step({data[i]}).at("loss");
        if (i == 0)
            first = loss;
    }
    EXPECT_NEAR(first, std::log(2.0), 1e-5); // policy == reference at step 0

    // Weights that LoRA never touches moved: the embedding, a layer norm, the relative bias.
    int changed = 0;
    for (const auto &item : model->named_parameters())
        if (!torch::equal(item.value(), before.at(item.key())))
            ++changed;
    EXPECT_EQ(changed, static_cast<int>(before.size())) << "every parameter should move";
    for (const std::string name :
         {"shared.weight", "encoder.final_layer_norm.weight",
          "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"}) {
        ASSERT_TRUE(before.count(name)) << name;
        EXPECT_FALSE(torch::equal(model->named_parameters()[name], before.at(name))) << name;
    }
    // The reference is still exactly the base: same weights, same logits.
    for (const auto &item : policy.reference()->named_parameters())
        EXPECT_TRUE(torch::equal(item.value(), before.at(item.key()))) << item.key();
    policy.setAdapterEnabled(false);
    EXPECT_TRUE(torch::equal(logitsOf(policy, probe), referenceBefore));
    policy.setAdapterEnabled(true);
    EXPECT_FALSE(torch::allclose(logitsOf(policy, probe), referenceBefore, 1e-4, 1e-4));
}

TEST(FullFineTuning, ResumedRunEqualsTheUninterruptedOne)
{
    const auto data = batches(6);
    mp::T5Model straight = baseModel();
    mp::T5Policy straightPolicy(straight, {.fullFineTuning = true});
    mp::DpoTrainer straightTrainer(straightPolicy, options());
    for (const auto &b : data)
        straightTrainer.step({b});

    const auto dir = std::filesystem::temp_directory_path() / "mp_full_finetune_resume";
    std::filesystem::remove_all(dir);
    {
        mp::T5Model first = baseModel();
        mp::T5Policy policy(first, {.fullFineTuning = true});
        mp::DpoTrainer trainer(policy, options());
        for (int i = 0; i < 3; ++i)
            trainer.step({data[static_cast<std::size_t>(i)]});
        trainer.saveCheckpoint(dir);
    }
    mp::T5Model resumed = baseModel(); // a new process loads the base bundle again
    mp::T5Policy policy(resumed, {.fullFineTuning = true});
    mp::DpoTrainer trainer(policy, options());
    trainer.loadCheckpoint(dir);
    EXPECT_EQ(trainer.globalStep(), 3);
    for (std::size_t i = 3; i < data.size(); ++i)
        trainer.step({data[i]});
    std::filesystem::remove_all(dir);

    const auto expected = straight->named_parameters();
    for (const auto &item : resumed->named_parameters())
        EXPECT_TRUE(torch::allclose(item.value(), expected[item.key()], 0, 1e-6)) << item.key();
    // The reference of the resumed run is the base, not the checkpoint's weights.
    const auto base = snapshot(*baseModel());
    for (const auto &item : policy.reference()->named_parameters())
        EXPECT_TRUE(torch::equal(item.value(), base.at(item.key()))) << item.key();
}

TEST(FullFineTuning, RefusesAdaptersAndCheckpointsOfTheOtherKind)
{
    mp::T5Model withLora = baseModel();
    mp::applyLora(*withLora, mp::LoraConfig{.rank = 2, .alpha = 4.0});
    EXPECT_THROW((mp::T5Policy{withLora, {.fullFineTuning = true}}), std::invalid_argument);
    EXPECT_THROW(mp::T5Policy{baseModel()}, std::invalid_argument); // LoRA mode, no adapters

    // A LoRA run's checkpoint does not load into a full fine-tuning run.
    const auto dir = std::filesystem::temp_directory_path() / "mp_full_finetune_kind";
    std::filesystem::remove_all(dir);
    {
        mp::T5Policy lora(withLora);
        mp::DpoTrainer trainer(lora, options());
        trainer.step({batches(1).front()});
        trainer.saveCheckpoint(dir);
    }
    mp::T5Policy full(baseModel(), {.fullFineTuning = true});
    mp::DpoTrainer trainer(full, options());
    try {
        trainer.loadCheckpoint(dir);
        ADD_FAILURE() << "a LoRA checkpoint loaded into a full fine-tuning run";
    } catch (const mp::InputError &error) {
        EXPECT_NE(std::string(error.what()).find("model.pt"), std::string::npos) << error.what();
    }
    std::filesystem::remove_all(dir);
}

} // namespace
