// The app's side of tests/bench/compare.sh: the same work as tests/reference/bench_t5.py run by
// transformers/PEFT/TRL, on the same weights and inputs, one JSON line per case on stdout. DIR
// holds config.json + model.safetensors (a Hugging Face T5 directory) and inputs.safetensors,
// made by `bench_t5.py prep`. Without --dir: the embedded default's T5 with seeded inputs of the
// same shapes (CI's quick run, which has no Python). No assertion on times.
//   bench_side_by_side --dir DIR [--cases gemm,pair,batch,pair_int8,batch_int8,dpo,dpo_cached,
//                                          rm_step,ppo_step,ppo_step_value_head,t2m_embed]
//                      [--reps 3]
//                      [--threads 1] [--tokens 51] [--warmup 1]
//                      [--t2m-dir T2M] [--t2m-count 1000] [--t2m-dump FILE]
// Cases (each: one untimed warm-up (dpo: --warmup), then --reps timed repetitions):
//   gemm   at::mm of two 1536x1536 fp32 matrices: the machine's limit as LibTorch reaches it
//   pair   a labeling pair: one prompt, two seeded samples of exactly --tokens decoder steps
//          (no stop token, as on the Python side), then each sample's codes through the embedded
//          default's VQ-VAE and recoverFromRic to joints (work the Python side does not do)
//   batch  64 prompts, one sample each, --tokens steps (the evaluation's generation)
//   pair_int8, batch_int8  pair and batch with GenerateOptions::int8Weights: the decoding steps
//          read int8 copies of the decoder's weights and the LM head (weight-only, per-row
//          scales, float32 activations), made once before the timing ("quantize_ms")
//   dpo    one DPO step: 64 pairs, LoRA r 8 / alpha 16 on q and v, reference = adapter
//          disabled, sigmoid loss beta 0.1, gradient clipping 1.0, AdamW
//   dpo_cached  the same step with the reference's log-probs computed once beforehand (untimed;
//          run.json's dpo.precompute_ref_logps): no reference forward in the step, so less work
//          than dpo (TRL's default computes the reference in the step)
//   rm_step  one reward-model step (RewardTrainer::step, the rm run's): 64 pairs' chosen and
//          rejected through one forward of the T5 with LoRA r 8 / alpha 16 on q and v and the
//          scalar head on the last label position, Bradley-Terry loss, clipping 1.0, AdamW 2e-4;
//          dropout and NEFTune off, no margins (TRL's loss without a margin column). The head
//          starts from DIR/rm_head.safetensors (bench_rlhf.py prep) when there is one. Its line
//          also holds "first_loss", the loss at the initial weights, for the equality check.
//   ppo_step  one PPO step after generation (PpoTrainer::step, the ppo run's): 64 rollouts (the
//          DPO prompts, the chosen labels as responses, DIR/ppo_inputs.safetensors' scores from
//          bench_ppo.py prep; seeded without it) through the no-grad forwards of the policy (LoRA
//          r 8 / alpha 16 on q and v), the reference (adapter disabled) and the critic (a separate
//          T5 with its own adapter and a zero head, as the ppo run's), rewards with the KL
//          penalty, GAE, 4 PPO epochs x 8 mini-batches of 8 of clipped updates (Adam 1e-5, no
//          clipping), the adaptive KL controller; dropout off, no score scaling. TRL's
//          encoder-decoder mask (a response's first label left out) and ppo_orders' epoch orders,
//          as the Python side (tests/reference/bench_ppo.py, TRL 0.8.6 PPOTrainer.step) has
//          them. Its line holds "first_loss", the first mini-batch's loss at the initial weights.
//   ppo_step_value_head  the same step with the ppo run's other critic, a value head on the
//          policy's decoder states (ppo.critic "value_head", the paper's ppo.py), zeroed and
//          without dropout as the Python side's: TRL's own work (compare.sh sets it against the
//          same Python step)
//   t2m_embed  the T2M evaluator (Guo et al.) at its real size embedding the first --t2m-count
//          captions and motions of T2M/inputs.safetensors, as `motionpref eval` does: the
//          checkpoint T2M/checkpoints/t2m/text_mot_match/model/finest.tar with T2M/glove/our_vab_*
//          and T2M/meta/{mean,std}.npy through `import evaluator` (importT2mEvaluator, untimed,
//          into a temporary directory) and loadEvaluator; timed: each motion normalised with the
//          evaluator's statistics, then EvaluatorEmbedder::texts and ::motions with the
//          evaluation's batch size (32) and 196-frame buffer. Warm-up: the first 64 items. Files
//          from `tests/reference/bench_t2m.py prep` (the Python side: `bench_t2m.py run`);
//          without --t2m-dir: seeded random weights of the same size and seeded inputs.
//          --t2m-dump FILE writes the embeddings (text_embedding, motion_embedding, input order)
//          after the timing, for `bench_t2m.py check`.

#include "ml/core/blas_threads.h"
#include "ml/core/memory_policy.h"
#include "ml/core/paths.h"
#include "ml/data/safetensors.h"
#include "ml/eval/embedder.h"
#include "ml/eval/evaluation.h"
#include "ml/eval/evaluator.h"
#include "ml/eval/t2m_import.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/models/sampler_loop.h"
#include "ml/models/t5.h"
#include "ml/models/weight_int8_decoder.h"
#include "ml/motion/features.h"
#include "ml/train/dpo_trainer.h"
#include "ml/train/logprobs.h"
#include "ml/train/ppo_trainer.h"
#include "ml/train/reward_trainer.h"
#include "ml/train/t5_policy.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

constexpr std::int64_t kGemmSize = 1536; // as bench_t5.py's GEMM_N

struct Args {
    std::filesystem::path dir;
    std::vector<std::string> cases = {"gemm",       "pair",    "batch",    "dpo",
                                      "dpo_cached", "rm_step", "ppo_step", "ppo_step_value_head",
                                      "t2m_embed"};
    int reps = 3;
    int threads = 1;
    std::int64_t tokens = 51; // 49 motion codes + SOM + EOM
    int dpoWarmup = 1; // training steps' (dpo, rm_step, ppo_step); compare.sh skips a flan one's

    // bench_t2m.py prep's output; empty: seeded stand-ins of the same size
    std::filesystem::path t2mDir;
    std::int64_t t2mCount = 1000;
    std::filesystem::path t2mDump;
};

std::vector<std::string> splitCommas(const std::string &text)
{
    std::vector<std::string> parts;
    std::stringstream stream(text);
    for (std::string part; std::getline(stream, part, ',');)
        if (!part.empty())
            parts.push_back(part);
    return parts;
}

Args parseArgs(int argc, char **argv)
{
    Args args;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const std::string value = argv[i + 1];
        if (key == "--dir")
            args.dir = value;
        else if (key == "--cases")
            args.cases = splitCommas(value);
        else if (key == "--reps")
            args.reps = std::max(1, std::stoi(value));
        else if (key == "--threads")
            args.threads = std::max(1, std::stoi(value));
        else if (key == "--warmup")
            args.dpoWarmup = std::max(0, std::stoi(value));
        else if (key == "--tokens")
            args.tokens = std::max<std::int64_t>(3, std::stoll(value));
        else if (key == "--t2m-dir")
            args.t2mDir = value;
        else if (key == "--t2m-count")
            args.t2mCount = std::max<std::int64_t>(1, std::stoll(value));
        else if (key == "--t2m-dump")
            args.t2mDump = value;
        else
            throw std::invalid_argument("unknown option " + key +
                                        " (see the top of bench_side_by_side.cpp)");
    }
    return args;
}

// Wall ms and process CPU ms of each repetition (on a shared machine the CPU time is what the
// work itself costs; with one thread it is the wall time on an idle core).
struct Times {
    std::vector<double> wallMs;
    std::vector<double> cpuMs;
};

Times timed(int reps, const std::function<void()> &work, int warmup = 1)
{
    for (int i = 0; i < warmup; ++i) // allocator, thread pool, first-call dispatch, optimizer
        work();
    Times times;
    for (int i = 0; i < reps; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto cpuStart = std::clock();
        work();
        times.cpuMs.push_back(1000.0 * static_cast<double>(std::clock() - cpuStart) /
                              CLOCKS_PER_SEC);
        times.wallMs.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    return times;
}

void emit(const std::string &name, int threads, const Times &times,
          nlohmann::json extra = nlohmann::json::object())
{
    extra["side"] = "app";
    extra["case"] = name;
    extra["threads"] = threads;
    extra["ms"] = times.wallMs;
    extra["cpu_ms"] = times.cpuMs;
    std::cout << extra.dump() << std::endl;
}

// The rows of a right-padded id matrix without their padding.
std::vector<std::vector<std::int64_t>> unpadRows(const at::Tensor &ids, const at::Tensor &mask)
{
    std::vector<std::vector<std::int64_t>> rows;
    for (std::int64_t i = 0; i < ids.size(0); ++i) {
        const auto length = mask[i].sum().item<std::int64_t>();
        const auto row = ids[i].slice(0, 0, length).contiguous();
        rows.emplace_back(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + length);
    }
    return rows;
}

// bench_t5.py prep's shapes without Python: prompts of 8..20 pieces + </s>, DPO sides of 22..47
// motion tokens, right-padded (0 for ids, -100 for labels).
mp::TensorMap syntheticInputs(const mp::MotionTokenLayout &layout)
{
    torch::manual_seed(19);
    const auto rows = [](std::int64_t count, std::int64_t low, std::int64_t high,
                         std::int64_t shortest, std::int64_t longest, std::int64_t pad) {
        const auto lengths = torch::randint(shortest, longest + 1, {count});
        const auto width = lengths.max().item<std::int64_t>();
        auto ids = torch::randint(low, high, {count, width});
        const auto mask = torch::arange(width).unsqueeze(0) < lengths.unsqueeze(1);
        return std::pair{ids.masked_fill(mask.logical_not(), pad), mask.to(torch::kLong)};
    };
    const auto text = [&](std::int64_t count) {
        auto [ids, mask] = rows(count, 2, layout.textVocabSize, 9, 21, 0);
        const auto eos = mask.sum(1, true) - 1; // the last piece of each row becomes </s>
        return std::pair{ids.scatter(1, eos, 1), mask};
    };
    const auto labels = [&] {
        return rows(64, layout.textVocabSize, layout.vocabSize(), 22, 47, -100).first;
    };
    const auto [batchIds, batchMask] = text(64);
    const auto [dpoIds, dpoMask] = text(64);
    return {{"pair_ids", text(1).first},      {"batch_ids", batchIds},
            {"batch_mask", batchMask},        {"dpo_prompt_ids", dpoIds},
            {"dpo_prompt_mask", dpoMask},     {"dpo_chosen_labels", labels()},
            {"dpo_rejected_labels", labels()}};
}

// The T2M case's evaluator and inputs as the evaluation holds them: tagged captions and raw
// (frames, 263) motions.
struct T2mWork {
    mp::LoadedEvaluator evaluator;
    std::vector<mp::EvalCaption> captions;
    std::vector<at::Tensor> motions;
    std::vector<std::int64_t> lengths;
};

T2mWork loadT2mWork(const std::filesystem::path &dir, std::int64_t count)
{
    T2mWork work;
    // What a user does: `motionpref-cli import evaluator`, then `motionpref eval` loads the
    // directory it wrote.
    const auto imported = std::filesystem::temp_directory_path() /
                          ("mp_bench_t2m_evaluator_" + std::to_string(::getpid()));
    mp::importT2mEvaluator(
        {.checkpoint = dir / "checkpoints" / "t2m" / "text_mot_match" / "model" / "finest.tar",
         .gloveDir = dir / "glove",
         .metaDir = dir / "meta",
         .out = imported});
    work.evaluator = mp::loadEvaluator(imported);
    std::filesystem::remove_all(imported);

    const mp::SafetensorsReader inputs(dir / "inputs.safetensors");
    const auto listOf = [&](const char *key) {
        return nlohmann::json::parse(inputs.metadata().at(key)).get<std::vector<std::string>>();
    };
    const auto words = listOf("words");
    const auto tags = listOf("pos_tags");
    const auto wordIds = inputs.tensor("caption_words");
    const auto posIds = inputs.tensor("caption_pos");
    const auto captionLengths = inputs.tensor("caption_lengths");
    const auto motions = inputs.tensor("motions");
    const auto motionLengths = inputs.tensor("motion_lengths");
    count = std::min(count, motionLengths.size(0));
    std::int64_t start = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        mp::EvalCaption caption;
        for (std::int64_t k = 0; k < captionLengths[i].item<std::int64_t>(); ++k)
            caption.tokens.push_back({words.at(wordIds[i][k].item<std::int64_t>()),
                                      tags.at(posIds[i][k].item<std::int64_t>())});
        work.captions.push_back(std::move(caption));
        const auto frames = motionLengths[i].item<std::int64_t>();
        work.motions.push_back(motions.slice(0, start, start + frames));
        work.lengths.push_back(frames);
        start += frames;
    }
    return work;
}

// Without files: seeded weights and inputs of bench_t2m.py prep's sizes (CI's quick run).
T2mWork syntheticT2mWork(std::int64_t count)
{
    torch::manual_seed(25);
    T2mWork work;
    std::vector<std::string> words = {"sos",  "eos",  "unk",  "a",      "person", "walk", "forward",
                                      "left", "hand", "turn", "slowly", "and",    "then"};
    auto config = mp::EvaluatorConfig::t2m(static_cast<std::int64_t>(words.size()));
    config.vipLists = mp::VipLists::T2m; // as importT2mEvaluator sets it
    work.evaluator.vocabulary = mp::WordVocabulary::fromVectors(
        words, 0.4 * torch::randn({config.vocabSize, config.dimWord}), "synthetic");
    work.evaluator.model = mp::TextMotionEvaluator(config);
    work.evaluator.model->setWordVectors(work.evaluator.vocabulary.vectors());
    work.evaluator.mean = torch::zeros({mp::kFeatureDim});
    work.evaluator.std = torch::ones({mp::kFeatureDim});
    for (std::int64_t i = 0; i < count; ++i) {
        mp::EvalCaption caption;
        for (std::int64_t k = 0, n = 3 + i % 22; k < n; ++k)
            caption.tokens.push_back({words[3 + (i + k) % (words.size() - 3)], "NOUN"});
        work.captions.push_back(std::move(caption));
        work.lengths.push_back(4 * (10 + i % 40)); // 40..196 frames
        work.motions.push_back(torch::randn({work.lengths.back(), mp::kFeatureDim}));
    }
    return work;
}

// A T5 of its own (the dpo case adds adapters to the shared one) with dropout off, as TRL's
// disable_dropout_in_model leaves the Python side's: the bench's weights, else the default's.
mp::T5Model freshT5(const Args &args, const mp::ModelBundle &motion)
{
    mp::T5Config config =
        args.dir.empty() ? motion.config().t5 : mp::T5Config::load(args.dir / "config.json");
    config.dropoutRate = 0.0;
    mp::T5Model t5(config);
    t5->loadWeights((args.dir.empty() ? mp::defaultModelDir() : args.dir) / "model.safetensors");
    return t5;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        const Args args = parseArgs(argc, argv);
        torch::set_num_threads(args.threads);
        mp::keepFreedMemoryForReuse(); // as a training run's process does (runTraining)
        mp::ModelBundle motion(mp::defaultModelDir()); // its VQ-VAE turns codes into joints
        mp::T5Model t5 = motion.t5();
        mp::TensorMap inputs;
        if (args.dir.empty()) {
            inputs = syntheticInputs(motion.config().tokens);
        } else {
            inputs = mp::readSafetensors(args.dir / "inputs.safetensors");
            t5 = mp::T5Model(mp::T5Config::load(args.dir / "config.json"));
            t5->loadWeights(args.dir / "model.safetensors");
            t5->eval();
        }
        const auto has = [&](const char *name) {
            return std::find(args.cases.begin(), args.cases.end(), name) != args.cases.end();
        };

        if (has("gemm")) {
            const auto a = torch::randn({kGemmSize, kGemmSize});
            const auto b = torch::randn({kGemmSize, kGemmSize});
            emit("gemm", args.threads, timed(std::max(args.reps, 3), [&] { at::mm(a, b); }));
        }

        const std::vector<std::int64_t> noStops; // every row decodes args.tokens steps
        mp::GenerateOptions options{.sampling = {.temperature = 1.0, .topK = 50, .topP = 1.0},
                                    .maxMotionTokens = args.tokens - 2};
        // The int8 cases' weights, quantised once before their timing (as the app does on the
        // first int8 request): the time it takes goes into their lines.
        nlohmann::json int8Extra = nlohmann::json::object();
        if (has("pair_int8") || has("batch_int8")) {
            const auto start = std::chrono::steady_clock::now();
            const auto weights = mp::int8DecoderWeights(t5.ptr());
            int8Extra["quantize_ms"] =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count();
            int8Extra["int8_bytes"] = weights ? weights->bytes() : 0;
        }
        for (const bool int8 : {false, true}) {
            options.int8Weights = int8;
            const std::string suffix = int8 ? "_int8" : "";
            const auto extra = int8 ? int8Extra : nlohmann::json::object();
            if (has(("pair" + suffix).c_str())) {
                torch::NoGradGuard noGrad;
                const auto ids = inputs.at("pair_ids");
                const auto prompt = unpadRows(ids, torch::ones_like(ids))[0];
                options.seeds = {1, 2};
                const auto numCodes = motion.config().vqvae.numCodes;
                // As ModelBundle::generateBatch (the app's labeling pair): both samples' codes
                // through the VQ-VAE in one batch (equal lengths), then each to joints.
                const auto pair = [&] {
                    const auto generated = mp::generateTokens(t5, prompt, noStops, options);
                    std::vector<std::vector<std::int64_t>> codes;
                    for (const auto &tokens : generated.sequences) {
                        codes.emplace_back(tokens.begin() + 1, tokens.end() - 1);
                        for (auto &code : codes.back())
                            code %= numCodes;
                    }
                    for (const auto &features : motion.decodeCodesBatch(codes))
                        mp::recoverFromRic(features);
                };
                const auto t5Only = [&] { mp::generateTokens(t5, prompt, noStops, options); };
                auto line = extra;
                line["t5_only_ms"] = timed(args.reps, t5Only).wallMs;
                emit("pair" + suffix, args.threads, timed(args.reps, pair), line);
            }
            if (has(("batch" + suffix).c_str())) {
                torch::NoGradGuard noGrad;
                const auto prompts = unpadRows(inputs.at("batch_ids"), inputs.at("batch_mask"));
                options.seeds.resize(prompts.size());
                std::iota(options.seeds.begin(), options.seeds.end(), 0);
                emit("batch" + suffix, args.threads,
                     timed(args.reps,
                           [&] { mp::generateTokensBatch(t5, prompts, noStops, options); }),
                     extra);
            }
        }
        options.int8Weights = false;
        // The training cases' products use the BLAS's threads, as a training run's process does
        // (runTraining); the generation cases above keep the app's one BLAS thread.
        mp::useBlasThreads(args.threads);
        if (has("dpo") || has("dpo_cached")) {
            mp::applyLora(*t5,
                          {.rank = 8, .alpha = 16, .dropout = 0.05, .targetModules = {"q", "v"}});
            mp::T5Policy policy(t5);
            mp::DpoTrainer trainer(policy, {.loss = {.type = mp::DpoLossType::Sigmoid, .beta = 0.1},
                                            .totalSteps = 1000});
            mp::PreferenceBatch batch{.promptIds = inputs.at("dpo_prompt_ids"),
                                      .promptMask = inputs.at("dpo_prompt_mask"),
                                      .chosenLabels = inputs.at("dpo_chosen_labels"),
                                      .rejectedLabels = inputs.at("dpo_rejected_labels")};
            if (has("dpo"))
                emit("dpo", args.threads,
                     timed(
                         args.reps, [&] { trainer.step({batch}); }, args.dpoWarmup));
            if (has("dpo_cached")) {
                // run.json's dpo.precompute_ref_logps (TRL's precompute_ref_log_probs): the
                // reference's log-probs computed once before training (not timed) and read by
                // every step, which then runs no reference forward.
                const auto reference = mp::referenceLogProbs(
                    policy, batch, {.alignment = mp::LabelAlignment::EncoderDecoder});
                batch.refChosenLogps = reference.chosen;
                batch.refRejectedLogps = reference.rejected;
                emit("dpo_cached", args.threads,
                     timed(
                         args.reps, [&] { trainer.step({batch}); }, args.dpoWarmup));
            }
        }
        if (has("rm_step")) {
            mp::T5Model t5 = freshT5(args, motion);
            mp::applyLora(*t5,
                          {.rank = 8, .alpha = 16, .dropout = 0.0, .targetModules = {"q", "v"}});
            mp::RewardModel model(t5);
            const auto headFile = args.dir / "rm_head.safetensors";
            if (!args.dir.empty() && std::filesystem::exists(headFile)) {
                // The Python side's initial head, so both start from the same weights.
                const auto head = mp::readSafetensors(headFile);
                torch::NoGradGuard noGrad;
                model->head->weight.copy_(head.at("score.weight"));
                model->head->bias.copy_(head.at("score.bias"));
            }
            // The rm run's optimizer, schedule and clipping; no NEFTune noise and no margins, so
            // that the loss is TRL's -logsigmoid(r_chosen - r_rejected) on both sides.
            mp::RewardTrainer trainer(
                model, {.margin = mp::MarginScale::None, .neftuneAlpha = 0.0, .totalSteps = 1000});
            const auto pairs = inputs.at("dpo_prompt_ids").size(0);
            const mp::RewardBatch batch{
                .pairs = {.promptIds = inputs.at("dpo_prompt_ids"),
                          .promptMask = inputs.at("dpo_prompt_mask"),
                          .chosenLabels = inputs.at("dpo_chosen_labels"),
                          .rejectedLabels = inputs.at("dpo_rejected_labels")},
                .degrees = std::vector<mp::PreferenceDegree>(static_cast<std::size_t>(pairs),
                                                             mp::PreferenceDegree::MuchBetter)};
            std::optional<double> firstLoss; // the step's own metric: no extra work timed
            const auto times = timed(
                args.reps,
                [&] {
                    const auto metrics = trainer.step({batch});
                    if (!firstLoss)
                        firstLoss = metrics.at("loss");
                },
                args.dpoWarmup);
            emit("rm_step", args.threads, times, {{"first_loss", *firstLoss}});
        }
        // ppo_step with the ppo run's separate critic; ppo_step_value_head with its value head.
        const auto ppoStep = [&](const std::string &name, mp::PpoCritic kind) {
            const auto loraOptions =
                mp::LoraConfig{.rank = 8, .alpha = 16, .dropout = 0.0, .targetModules = {"q", "v"}};
            mp::T5Model policy = freshT5(args, motion);
            mp::applyLora(*policy, loraOptions);
            // The ppo run's separate critic: a T5 of its own with its own adapter and a zero
            // value head (the run starts it from the reward model's; the timing is the same).
            mp::RewardModel critic{nullptr};
            if (kind == mp::PpoCritic::Separate) {
                mp::T5Model criticT5 = freshT5(args, motion);
                mp::applyLora(*criticT5, loraOptions);
                critic = mp::RewardModel(criticT5, true);
            }
            const auto rows = inputs.at("dpo_prompt_ids").size(0);
            mp::TensorMap ppoInputs;
            const auto ppoFile = args.dir / "ppo_inputs.safetensors";
            if (!args.dir.empty() && std::filesystem::exists(ppoFile))
                ppoInputs = mp::readSafetensors(ppoFile);
            else // bench_ppo.py prep's shapes: a normal score per rollout, an order per epoch
                ppoInputs = {
                    {"ppo_scores", torch::randn({rows})},
                    {"ppo_orders", torch::stack({torch::randperm(rows), torch::randperm(rows),
                                                 torch::randperm(rows), torch::randperm(rows)})}};
            const auto orders = ppoInputs.at("ppo_orders").to(torch::kLong).contiguous();
            // The ppo run's settings (run.json's ppo defaults) less score scaling, which TRL's
            // PPOConfig leaves off; each epoch's rollout order from the inputs, as TRL's side.
            mp::PpoTrainer trainer(
                policy, critic,
                {.optimizer = {.kind = mp::OptimizerKind::Adam, .lr = 1e-5},
                 .totalSteps = 1000,
                 .miniBatchSize = 8,
                 .ppoEpochs = 4,
                 .scoreTransform = {.useScaling = false, .useNorm = false},
                 .valueHead = kind == mp::PpoCritic::ValueHead,
                 .valueHeadDropout = 0.0, // as the Python side's
                 .order = [&](std::int64_t, std::int64_t epoch, std::int64_t count) {
                     const auto row = orders[epoch % orders.size(0)];
                     if (row.size(0) != count)
                         throw std::invalid_argument("ppo_orders rows are not of the batch size");
                     return std::vector<std::int64_t>(row.data_ptr<std::int64_t>(),
                                                      row.data_ptr<std::int64_t>() + count);
                 }});
            const auto labels = inputs.at("dpo_chosen_labels");
            // TRL's encoder-decoder mask: every response token but the first (the app's runs
            // score every one).
            auto mask = labels.ne(mp::kIgnoreLabel).to(torch::kFloat);
            mask.select(1, 0).zero_();
            const mp::PpoRollout rollout{.promptIds = inputs.at("dpo_prompt_ids"),
                                         .promptMask = inputs.at("dpo_prompt_mask"),
                                         .labels = labels,
                                         .mask = mask,
                                         .rawScores = ppoInputs.at("ppo_scores").to(torch::kFloat)};
            if (trainer.valueHead()) { // zeroed, as TRL's side's (and the separate critic's)
                torch::NoGradGuard noGrad;
                trainer.valueHead()->summary->weight.zero_();
                trainer.valueHead()->summary->bias.zero_();
            }
            std::optional<double> firstLoss; // the step's own value: no extra work timed
            std::int64_t stepIndex = 0;
            const auto times = timed(
                args.reps,
                [&] {
                    const auto result = trainer.step(rollout, stepIndex++);
                    if (!firstLoss)
                        firstLoss = result.firstLoss;
                },
                args.dpoWarmup);
            emit(name, args.threads, times, {{"first_loss", *firstLoss}});
        };
        if (has("ppo_step"))
            ppoStep("ppo_step", mp::PpoCritic::Separate);
        if (has("ppo_step_value_head"))
            ppoStep("ppo_step_value_head", mp::PpoCritic::ValueHead);
        mp::useBlasThreads(1);
        if (has("t2m_embed")) {
            auto work = args.t2mDir.empty() ? syntheticT2mWork(args.t2mCount)
                                            : loadT2mWork(args.t2mDir, args.t2mCount);
            auto &evaluator = *work.evaluator.model;
            torch::NoGradGuard noGrad;
            evaluator.eval();
            const mp::EvaluationOptions evaluation; // its batch size and 196-frame buffer
            mp::EvaluatorEmbedder embedder(evaluator, work.evaluator.vocabulary,
                                           evaluation.batchSize, evaluation.maxMotionFrames);
            const auto mean = work.evaluator.mean.to(torch::kFloat32).view({mp::kFeatureDim});
            const auto std = work.evaluator.std.to(torch::kFloat32).view({mp::kFeatureDim});
            // As ModelEvaluation does: normalise (its Normaliser), embed the captions and the
            // motions in batches.
            const auto embed = [&](std::size_t count) {
                std::vector<const mp::EvalCaption *> captions;
                std::vector<at::Tensor> normalised;
                for (std::size_t i = 0; i < count; ++i) {
                    captions.push_back(&work.captions[i]);
                    normalised.push_back((work.motions[i].to(torch::kFloat32) - mean) / std);
                }
                const std::vector<std::int64_t> lengths(work.lengths.begin(),
                                                        work.lengths.begin() + count);
                return std::pair{embedder.texts(captions), embedder.motions(normalised, lengths)};
            };
            const auto count = work.captions.size();
            embed(std::min<std::size_t>(count, 64)); // warm-up
            emit("t2m_embed", args.threads,
                 timed(
                     args.reps, [&] { embed(count); }, 0),
                 {{"count", count}});
            if (!args.t2mDump.empty()) {
                const auto [text, motion] = embed(count);
                mp::writeSafetensors(args.t2mDump,
                                     {{"text_embedding", text}, {"motion_embedding", motion}});
            }
        }
    } catch (const std::exception &error) {
        std::fprintf(stderr, "bench_side_by_side: %s\n", error.what());
        return 1;
    }
    return 0;
}
