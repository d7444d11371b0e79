// The T2M evaluator's text preprocessing and networks: token layout, POS classes, vocabularies,
// checkpoint key names, packed-sequence semantics, save/load.

#include "ml/core/error.h"
#include "ml/eval/evaluator.h"
#include "ml/eval/text_preprocess.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace {

std::filesystem::path evalTempDir(const std::string &name)
{
    const auto dir = std::filesystem::temp_directory_path() /
                     ("mp_eval_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

mp::EvaluatorConfig smallEvaluatorConfig()
{
    mp::EvaluatorConfig c;
    c.vocabSize = 10;
    c.dimWord = 8;
    c.dimTextHidden = 12;
    c.dimCoemb = 6;
    c.dimMovementHidden = 10;
    c.dimMovementLatent = 9;
    c.dimMotionHidden = 11;
    return c;
}

TEST(EvalText, PosClassesFollowT2MOrder)
{
    EXPECT_EQ(mp::evalPosIndex("VERB"), 0);
    EXPECT_EQ(mp::evalPosIndex("ADV"), 8);
    EXPECT_EQ(mp::evalPosIndex("Loc_VIP"), 9);
    EXPECT_EQ(mp::evalPosIndex("Desc_VIP"), 13);
    EXPECT_EQ(mp::evalPosIndex("OTHER"), 14);
    EXPECT_EQ(mp::evalPosIndex("CCONJ"), 14);
    EXPECT_EQ(mp::evalVipClass("left"), "Loc_VIP");
    EXPECT_EQ(mp::evalVipClass("knee"), "Body_VIP");
    EXPECT_EQ(mp::evalVipClass("chair"), "Obj_VIP");
    EXPECT_EQ(mp::evalVipClass("jump"), "Act_VIP");
    EXPECT_EQ(mp::evalVipClass("slowly"), "Desc_VIP");
    EXPECT_EQ(mp::evalVipClass("person"), "");
}

TEST(EvalText, ParsesHumanML3DTokens)
{
    const auto tokens = mp::parseTaggedTokens("a/DET man/NOUN walk/VERB forward/ADV");
    ASSERT_EQ(tokens.size(), 4u);
    EXPECT_EQ(tokens[1].word, "man");
    EXPECT_EQ(tokens[2].pos, "VERB");
    EXPECT_THROW(mp::parseTaggedTokens("a/DET man"), mp::InputError);
}

TEST(EvalText, RuleTaggerLemmatisesMotionWords)
{
    const auto tokens = mp::tagCaption("A person walks forward slowly, then turns LEFT and hops.");
    std::vector<std::string> joined;
    for (const auto &t : tokens)
        joined.push_back(t.word + "/" + t.pos);
    const std::vector<std::string> expected = {
        "a/DET",    "person/NOUN", "walk/VERB", "forward/ADV", "slowly/ADV",
        "then/ADV", "turn/VERB",   "left/ADJ",  "and/OTHER",   "hop/VERB"};
    EXPECT_EQ(joined, expected);
    const auto more = mp::tagCaption("someone is jogging, sitting down and waving both hands");
    EXPECT_EQ(more[2].word, "jog");
    EXPECT_EQ(more[3].word, "sit");
    EXPECT_EQ(more[6].word, "wave");
    EXPECT_EQ(more[8].word, "hand");
    EXPECT_EQ(more[1].pos, "AUX");
}

TEST(EvalText, EncodesSosWordsEosAndPadding)
{
    const auto captions =
        std::vector<std::vector<mp::TaggedWord>>{{{"a", "DET"}, {"man", "NOUN"}, {"walk", "VERB"}}};
    const auto vocabulary = mp::WordVocabulary::fromCaptions(captions);
    const auto encoded = mp::encodeText(
        {{"a", "DET"}, {"man", "NOUN"}, {"walk", "VERB"}, {"zebra", "NOUN"}}, vocabulary);
    ASSERT_EQ(encoded.wordIds.size(), 22u);
    EXPECT_EQ(encoded.length, 6); // sos + 4 + eos
    EXPECT_EQ(encoded.wordIds[0], vocabulary.index("sos"));
    EXPECT_EQ(encoded.wordIds[1], vocabulary.index("a"));
    EXPECT_EQ(encoded.posIds[1], mp::evalPosIndex("DET"));
    EXPECT_EQ(encoded.posIds[3], mp::evalPosIndex("Act_VIP")); // the VIP list overrides VERB
    EXPECT_EQ(encoded.wordIds[4], vocabulary.unkIndex());      // out of vocabulary
    EXPECT_EQ(encoded.posIds[4], mp::evalPosIndex("OTHER"));
    EXPECT_EQ(encoded.wordIds[5], vocabulary.index("eos"));
    EXPECT_EQ(encoded.wordIds[21], vocabulary.unkIndex());
    EXPECT_EQ(encoded.posIds[21], mp::evalPosIndex("OTHER"));
    EXPECT_EQ(encoded.posIds[0], mp::evalPosIndex("OTHER"));
}

TEST(EvalText, LongCaptionsKeepTwentyWords)
{
    std::vector<mp::TaggedWord> words(30, {"walk", "VERB"});
    const auto vocabulary = mp::WordVocabulary::fromCaptions({words});
    const auto encoded = mp::encodeText(words, vocabulary);
    EXPECT_EQ(encoded.length, 22);
    EXPECT_EQ(encoded.wordIds[21], vocabulary.index("eos"));
    const auto batch = mp::makeTextBatch({encoded, encoded});
    EXPECT_EQ(batch.posOneHot.sizes(), (std::vector<int64_t>{2, 22, 15}));
    EXPECT_EQ(batch.posOneHot.sum().item<float>(), 44.0f);
    EXPECT_EQ(batch.lengths[1].item<int64_t>(), 22);
}

TEST(EvalText, VocabularyFromCaptionsIsSortedAndCounted)
{
    const auto vocabulary = mp::WordVocabulary::fromCaptions(
        {{{"run", "VERB"}, {"a", "DET"}}, {{"run", "VERB"}, {"kick", "VERB"}}}, 2);
    EXPECT_TRUE(vocabulary.contains("run"));
    EXPECT_FALSE(vocabulary.contains("kick")); // seen once, below minCount
    EXPECT_TRUE(vocabulary.contains("sos"));
    EXPECT_EQ(vocabulary.index("kick"), vocabulary.unkIndex());
    EXPECT_EQ(vocabulary.size(), 4);
}

TEST(EvalText, ReadsGloveTextAndRejectsBadRows)
{
    const auto dir = evalTempDir("glove");
    {
        std::ofstream out(dir / "vectors.txt");
        out << "walk 1 2 3\nsos 0 0 1\nunk 0.5 0.5 0.5\n";
    }
    const auto vocabulary = mp::WordVocabulary::fromGloveText(dir / "vectors.txt");
    EXPECT_EQ(vocabulary.size(), 4); // eos added
    EXPECT_EQ(vocabulary.vectors().sizes(), (std::vector<int64_t>{4, 3}));
    EXPECT_FLOAT_EQ(vocabulary.vectors()[vocabulary.index("walk")][1].item<float>(), 2.0f);
    EXPECT_FLOAT_EQ(vocabulary.vectors()[vocabulary.index("eos")].abs().sum().item<float>(), 0.0f);
    {
        std::ofstream out(dir / "bad.txt");
        out << "walk 1 2 3\nrun 1 2\n";
    }
    try {
        mp::WordVocabulary::fromGloveText(dir / "bad.txt");
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("bad.txt: line 2"), std::string::npos) << e.what();
    }
    std::filesystem::remove_all(dir);
}

TEST(EvalEvaluator, NamesAndShapesMatchT2MCheckpoint)
{
    mp::TextMotionEvaluator evaluator(mp::EvaluatorConfig::t2m(100));
    const auto state = mp::evaluatorStateDict(*evaluator);
    auto shape = [&](const std::string &name) {
        const auto it = state.find(name);
        EXPECT_NE(it, state.end()) << name;
        return it == state.end() ? std::vector<int64_t>{} : it->second.sizes().vec();
    };
    EXPECT_EQ(shape("text_encoder.pos_emb.weight"), (std::vector<int64_t>{300, 15}));
    EXPECT_EQ(shape("text_encoder.input_emb.weight"), (std::vector<int64_t>{512, 300}));
    EXPECT_EQ(shape("text_encoder.gru.weight_ih_l0"), (std::vector<int64_t>{1536, 512}));
    EXPECT_EQ(shape("text_encoder.gru.bias_hh_l0_reverse"), (std::vector<int64_t>{1536}));
    EXPECT_EQ(shape("text_encoder.hidden"), (std::vector<int64_t>{2, 1, 512}));
    EXPECT_EQ(shape("text_encoder.output_net.0.weight"), (std::vector<int64_t>{512, 1024}));
    EXPECT_EQ(shape("text_encoder.output_net.1.weight"), (std::vector<int64_t>{512}));
    EXPECT_EQ(shape("text_encoder.output_net.3.weight"), (std::vector<int64_t>{512, 512}));
    EXPECT_EQ(shape("movement_encoder.main.0.weight"), (std::vector<int64_t>{512, 259, 4}));
    EXPECT_EQ(shape("movement_encoder.main.3.weight"), (std::vector<int64_t>{512, 512, 4}));
    EXPECT_EQ(shape("movement_encoder.out_net.weight"), (std::vector<int64_t>{512, 512}));
    EXPECT_EQ(shape("motion_encoder.input_emb.weight"), (std::vector<int64_t>{1024, 512}));
    EXPECT_EQ(shape("motion_encoder.gru.weight_hh_l0"), (std::vector<int64_t>{3072, 1024}));
    EXPECT_EQ(shape("motion_encoder.hidden"), (std::vector<int64_t>{2, 1, 1024}));
    EXPECT_EQ(shape("motion_encoder.output_net.3.weight"), (std::vector<int64_t>{512, 1024}));
    EXPECT_EQ(shape("word_emb.weight"), (std::vector<int64_t>{100, 300}));
}

TEST(EvalEvaluator, PackedMotionEqualsEachSequenceAlone)
{
    // The GRU over a packed batch gives each sequence's result as if it ran alone on its own
    // length (pack_padded_sequence semantics); the conv front end sees the padded batch in both.
    torch::manual_seed(1);
    mp::TextMotionEvaluator evaluator(smallEvaluatorConfig());
    evaluator->eval();
    torch::NoGradGuard noGrad;
    const auto movements = evaluator->encodeMovement(torch::randn({3, 16, 263}));
    ASSERT_EQ(movements.size(1), 4);
    const auto units = torch::tensor({2, 1, 4}, torch::kLong);
    const auto packed = evaluator->motion_encoder(movements, units, true);
    for (int i = 0; i < 3; ++i) {
        const int64_t n = units[i].item<int64_t>();
        const auto alone = evaluator->motion_encoder(movements.slice(0, i, i + 1).slice(1, 0, n),
                                                     units.slice(0, i, i + 1), false);
        EXPECT_TRUE(torch::allclose(packed[i], alone[0], 1e-5, 1e-6)) << "sample " << i;
    }
    // Unpacked, the padded steps of the shorter sequences change the result.
    const auto unpacked = evaluator->motion_encoder(movements, units, false);
    EXPECT_FALSE(torch::allclose(packed[0], unpacked[0], 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(packed[2], unpacked[2], 1e-5, 1e-6)); // full length: same
    // encodeMotion takes frames and divides by the unit length.
    const auto features = torch::randn({2, 16, 263});
    const auto viaFrames = evaluator->encodeMotion(features, torch::tensor({9, 16}, torch::kLong));
    const auto viaUnits = evaluator->motion_encoder(evaluator->encodeMovement(features),
                                                    torch::tensor({2, 4}, torch::kLong), true);
    EXPECT_TRUE(torch::allclose(viaFrames, viaUnits));
}

TEST(EvalEvaluator, PackedMotionNeedsOnlyOneUnitOfPadding)
{
    // The evaluation pads packed batches to length + 4 instead of T2M's 196: same embeddings.
    torch::manual_seed(4);
    mp::TextMotionEvaluator evaluator(smallEvaluatorConfig());
    evaluator->eval();
    torch::NoGradGuard noGrad;
    const auto motion = torch::randn({1, 40, 263});
    auto wide = torch::zeros({1, 196, 263});
    wide.slice(1, 0, 40).copy_(motion);
    auto tight = torch::zeros({1, 44, 263});
    tight.slice(1, 0, 40).copy_(motion);
    const auto lengths = torch::tensor({40}, torch::kLong);
    EXPECT_TRUE(torch::allclose(evaluator->encodeMotion(wide, lengths),
                                evaluator->encodeMotion(tight, lengths), 1e-5, 1e-6));
    // Without the extra unit the conv edge differs.
    EXPECT_FALSE(torch::allclose(evaluator->encodeMotion(wide, lengths),
                                 evaluator->encodeMotion(motion, lengths), 1e-5, 1e-6));
}

TEST(EvalEvaluator, PackedTextEqualsEachSentenceAlone)
{
    torch::manual_seed(2);
    mp::TextMotionEvaluator evaluator(smallEvaluatorConfig());
    evaluator->eval();
    torch::NoGradGuard noGrad;
    mp::WordVocabulary vocabulary = mp::WordVocabulary::fromCaptions(
        {{{"a", "DET"}, {"man", "NOUN"}, {"run", "VERB"}, {"fast", "ADV"}}});
    ASSERT_LE(vocabulary.size(), 10);
    const auto shortText = mp::encodeText({{"man", "NOUN"}, {"run", "VERB"}}, vocabulary);
    const auto longText = mp::encodeText(
        {{"a", "DET"}, {"man", "NOUN"}, {"run", "VERB"}, {"fast", "ADV"}}, vocabulary);
    const auto both = evaluator->encodeText(mp::makeTextBatch({shortText, longText}));
    const auto alone = evaluator->encodeText(mp::makeTextBatch({shortText}));
    EXPECT_TRUE(torch::allclose(both[0], alone[0], 1e-5, 1e-6));
    EXPECT_EQ(both.sizes(), (std::vector<int64_t>{2, 6}));
}

TEST(EvalEvaluator, SaveLoadRoundTrip)
{
    torch::manual_seed(3);
    const auto dir = evalTempDir("roundtrip");
    mp::TextMotionEvaluator evaluator(smallEvaluatorConfig());
    evaluator->eval();
    auto vocabulary = mp::WordVocabulary::fromCaptions({{{"a", "DET"},
                                                         {"b", "NOUN"},
                                                         {"c", "VERB"},
                                                         {"d", "ADV"},
                                                         {"e", "ADV"},
                                                         {"f", "ADV"},
                                                         {"g", "ADV"}}});
    ASSERT_EQ(vocabulary.size(), 10);
    mp::saveEvaluator(dir, *evaluator, vocabulary, torch::zeros({263}), torch::ones({263}));
    auto loaded = mp::loadEvaluator(dir);
    loaded.model->eval();
    torch::NoGradGuard noGrad;
    const auto features = torch::randn({2, 12, 263});
    const auto lengths = torch::tensor({12, 8}, torch::kLong);
    EXPECT_TRUE(torch::equal(evaluator->encodeMotion(features, lengths),
                             loaded.model->encodeMotion(features, lengths)));
    const auto text = mp::makeTextBatch({mp::encodeText({{"b", "NOUN"}}, vocabulary)});
    EXPECT_TRUE(torch::equal(evaluator->encodeText(text), loaded.model->encodeText(text)));
    EXPECT_EQ(loaded.vocabulary.words(), vocabulary.words());
    EXPECT_EQ(loaded.std.sizes(), (std::vector<int64_t>{263}));
    std::filesystem::remove_all(dir);
}

TEST(EvalEvaluator, WrongShapeNamesTheTensor)
{
    mp::TextMotionEvaluator evaluator(smallEvaluatorConfig());
    auto state = mp::evaluatorStateDict(*evaluator);
    state["motion_encoder.hidden"] = torch::zeros({2, 1, 5});
    try {
        mp::loadEvaluatorStateDict(*evaluator, state, "finest.safetensors");
        FAIL() << "expected InputError";
    } catch (const mp::InputError &e) {
        EXPECT_NE(std::string(e.what()).find("motion_encoder.hidden"), std::string::npos);
    }
    state.erase("word_emb.weight");
    state["motion_encoder.hidden"] = torch::zeros({2, 1, 11});
    EXPECT_NO_THROW(mp::loadEvaluatorStateDict(*evaluator, state, "t2m", "word_emb."));
    EXPECT_THROW(mp::loadEvaluatorStateDict(*evaluator, state, "t2m"), mp::InputError);
}

} // namespace
