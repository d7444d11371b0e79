#include "ml/eval/text_preprocess.h"

#include "ml/core/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

namespace mp {
namespace {

// T2M's POS_enumerator, in its order (the one-hot layout of the checkpoints).
constexpr std::array<std::string_view, kEvalPosClasses> kPosTags = {
    "VERB", "NOUN",    "DET",      "ADP",     "NUM",     "AUX",      "PRON", "ADJ",
    "ADV",  "Loc_VIP", "Body_VIP", "Obj_VIP", "Act_VIP", "Desc_VIP", "OTHER"};

struct VipList {
    std::string_view name;
    std::vector<std::string_view> words;
};

// The VIP word lists. They hold the words of T2M's lists (so the real T2M checkpoint sees the
// one-hots it was trained with) plus motion words of our corpus that fit the same classes.
const std::vector<VipList> &vipLists()
{
    static const std::vector<VipList> lists = {
        {"Loc_VIP",
         {"left", "right", "clockwise", "counterclockwise", "anticlockwise", "forward", "back",
          "backward", "up", "down", "straight", "curve", "sideways", "around", "circle"}},
        {"Body_VIP",
         {"arm",  "chin",     "foot",  "feet", "face", "hand",  "mouth", "leg",   "waist", "eye",
          "knee", "shoulder", "thigh", "head", "hip",  "elbow", "wrist", "torso", "body",  "fist"}},
        {"Obj_VIP",
         {"stair", "dumbbell", "chair", "window", "floor", "car", "ball", "handrail", "baseball",
          "basketball", "box", "rope", "wall", "table", "ground"}},
        {"Act_VIP",
         {"walk",   "run",      "swing", "pick", "bring",   "kick",    "put",    "squat",
          "throw",  "hop",      "dance", "jump", "turn",    "stumble", "stop",   "sit",
          "lift",   "lower",    "raise", "wash", "stand",   "kneel",   "stroll", "rub",
          "bend",   "balance",  "flap",  "jog",  "shuffle", "lean",    "rotate", "spin",
          "spread", "climb",    "wave",  "clap", "punch",   "crouch",  "bow",    "stretch",
          "sway",   "sidestep", "step"}},
        {"Desc_VIP",
         {"slowly", "carefully", "fast", "careful", "slow", "quickly", "happy", "angry", "sad",
          "happily", "angrily", "sadly", "quick", "gently", "energetically", "briskly"}},
    };
    return lists;
}

// T2M's own lists (utils/word_vectorizer.py VIP_dict), in its lookup order.
const std::vector<VipList> &t2mVipLists()
{
    static const std::vector<VipList> lists = {
        {"Loc_VIP",
         {"left", "right", "clockwise", "counterclockwise", "anticlockwise", "forward", "back",
          "backward", "up", "down", "straight", "curve"}},
        {"Body_VIP",
         {"arm", "chin", "foot", "feet", "face", "hand", "mouth", "leg", "waist", "eye", "knee",
          "shoulder", "thigh"}},
        {"Obj_VIP",
         {"stair", "dumbbell", "chair", "window", "floor", "car", "ball", "handrail", "baseball",
          "basketball"}},
        {"Act_VIP",
         {"walk",  "run",     "swing", "pick",   "bring",   "kick",   "put",  "squat",   "throw",
          "hop",   "dance",   "jump",  "turn",   "stumble", "stop",   "sit",  "lift",    "lower",
          "raise", "wash",    "stand", "kneel",  "stroll",  "rub",    "bend", "balance", "flap",
          "jog",   "shuffle", "lean",  "rotate", "spin",    "spread", "climb"}},
        {"Desc_VIP",
         {"slowly", "carefully", "fast", "careful", "slow", "quickly", "happy", "angry", "sad",
          "happily", "angrily", "sadly"}},
    };
    return lists;
}

const std::unordered_set<std::string_view> kDeterminers = {
    "a",    "an",  "the",     "this", "that", "these", "those",  "each",   "every",
    "some", "any", "another", "both", "all",  "no",    "either", "neither"};
const std::unordered_set<std::string_view> kAdpositions = {
    "in",    "on",      "at",      "to",      "from",    "with",  "into",    "onto",
    "over",  "under",   "through", "towards", "toward",  "of",    "for",     "by",
    "about", "behind",  "along",   "across",  "before",  "after", "off",     "out",
    "near",  "between", "above",   "below",   "against", "like",  "without", "during",
    "upon",  "beside",  "inside",  "outside", "per",     "until"};
const std::unordered_set<std::string_view> kPronouns = {
    "he",        "she",     "it",      "they",       "them",   "him", "his",
    "her",       "their",   "its",     "i",          "you",    "we",  "someone",
    "somebody",  "himself", "herself", "themselves", "itself", "one", "who",
    "something", "what",    "which",   "me",         "my",     "our", "your"};
const std::unordered_set<std::string_view> kAuxiliaries = {
    "is", "are", "was", "were",  "be",   "been",  "being", "has",   "have",   "had", "does",
    "do", "did", "can", "could", "will", "would", "may",   "might", "should", "must"};
const std::unordered_set<std::string_view> kNumbers = {
    "two",  "three", "four",   "five",   "six",    "seven",   "eight",
    "nine", "ten",   "eleven", "twelve", "twenty", "hundred", "zero"};
const std::unordered_set<std::string_view> kAdverbs = {
    "then",         "again",    "back",    "forward",  "forwards",  "backward",
    "backwards",    "away",     "around",  "very",     "also",      "twice",
    "once",         "together", "down",    "up",       "now",       "still",
    "while",        "just",     "quite",   "too",      "so",        "sideways",
    "here",         "there",    "fast",    "slightly", "finally",   "repeatedly",
    "continuously", "upward",   "upwards", "downward", "downwards", "straight"};
const std::unordered_set<std::string_view> kAdjectives = {
    "left",   "right",   "big",       "small",   "large",    "little",  "high",   "low",
    "slow",   "quick",   "other",     "several", "few",      "many",    "same",   "long",
    "short",  "wide",    "full",      "half",    "first",    "second",  "third",  "last",
    "next",   "happy",   "sad",       "angry",   "tall",     "careful", "single", "multiple",
    "deep",   "light",   "heavy",     "front",   "circular", "quarter", "brisk",  "open",
    "closed", "upright", "alternate", "whole",   "entire"};
const std::unordered_set<std::string_view> kOtherWords = {"and", "or",   "but",     "as",
                                                          "if",  "than", "because", "not"};

// Motion verbs (lemmas) the tagger recognises, also in -s/-ing/-ed forms.
const std::unordered_set<std::string_view> kVerbs = {
    "walk",    "run",      "jog",      "jump",    "hop",    "skip",   "kick",  "punch",   "wave",
    "clap",    "squat",    "sit",      "stand",   "kneel",  "crouch", "bend",  "bow",     "turn",
    "spin",    "rotate",   "step",     "throw",   "catch",  "lift",   "raise", "lower",   "swing",
    "stretch", "dance",    "sway",     "balance", "climb",  "crawl",  "lean",  "move",    "go",
    "stop",    "pick",     "put",      "bring",   "hold",   "shake",  "twist", "reach",   "pace",
    "stroll",  "march",    "sidestep", "shuffle", "rub",    "wash",   "flap",  "stumble", "start",
    "begin",   "continue", "return",   "perform", "make",   "take",   "push",  "pull",    "land",
    "rise",    "get",      "hit",      "play",    "look",   "extend", "rock",  "tap",     "wipe",
    "fall",    "roll",     "slide",    "repeat",  "face",   "spread", "drop",  "swim",    "fly",
    "pose",    "rest",     "wait",     "lunge",   "bounce", "cross",  "touch", "keep"};

const std::map<std::string_view, std::string_view> kIrregular = {
    {"ran", "run"},      {"sat", "sit"},      {"stood", "stand"},  {"threw", "throw"},
    {"thrown", "throw"}, {"swung", "swing"},  {"spun", "spin"},    {"knelt", "kneel"},
    {"took", "take"},    {"taken", "take"},   {"went", "go"},      {"goes", "go"},
    {"gone", "go"},      {"held", "hold"},    {"caught", "catch"}, {"made", "make"},
    {"got", "get"},      {"fell", "fall"},    {"rose", "rise"},    {"bent", "bend"},
    {"feet", "foot"},    {"stairs", "stair"}, {"began", "begin"},  {"shook", "shake"},
    {"does", "do"},      {"flew", "fly"},     {"swam", "swim"}};

bool isVerbLemma(const std::string &w)
{
    return kVerbs.count(w) > 0;
}

// The verb lemma of an inflected form ("walking" -> "walk", "hopped" -> "hop"), or "".
std::string verbLemma(const std::string &w)
{
    if (isVerbLemma(w))
        return w;
    if (auto it = kIrregular.find(w);
        it != kIrregular.end() && isVerbLemma(std::string(it->second)))
        return std::string(it->second);
    auto tryStem = [](const std::string &stem) -> std::string {
        if (stem.empty())
            return {};
        if (isVerbLemma(stem))
            return stem;
        if (isVerbLemma(stem + "e"))
            return stem + "e";
        // Doubled consonant: "hopping" -> "hopp" -> "hop".
        if (stem.size() >= 2 && stem.back() == stem[stem.size() - 2] &&
            isVerbLemma(stem.substr(0, stem.size() - 1)))
            return stem.substr(0, stem.size() - 1);
        return {};
    };
    auto endsWith = [&](std::string_view suffix) {
        return w.size() > suffix.size() &&
               w.compare(w.size() - suffix.size(), suffix.size(), suffix.data()) == 0;
    };
    if (endsWith("ing"))
        return tryStem(w.substr(0, w.size() - 3));
    if (endsWith("ed"))
        return tryStem(w.substr(0, w.size() - 2));
    if (endsWith("ies") && isVerbLemma(w.substr(0, w.size() - 3) + "y"))
        return w.substr(0, w.size() - 3) + "y";
    if (endsWith("es") && isVerbLemma(w.substr(0, w.size() - 2)))
        return w.substr(0, w.size() - 2);
    if (endsWith("s") && isVerbLemma(w.substr(0, w.size() - 1)))
        return w.substr(0, w.size() - 1);
    return {};
}

std::string nounLemma(const std::string &w)
{
    if (auto it = kIrregular.find(w); it != kIrregular.end())
        return std::string(it->second);
    if (w.size() > 3 && w.back() == 's' && w[w.size() - 2] != 's' && w[w.size() - 2] != 'u' &&
        w[w.size() - 2] != 'i')
        return w.substr(0, w.size() - 1);
    return w;
}

TaggedWord tagWord(const std::string &w, const std::string &previous)
{
    if (kDeterminers.count(w))
        return {w, "DET"};
    if (kPronouns.count(w))
        return {w, "PRON"};
    if (kAuxiliaries.count(w))
        return {w, "AUX"};
    if (kNumbers.count(w))
        return {w, "NUM"};
    if (kOtherWords.count(w))
        return {w, "OTHER"};
    if (kAdjectives.count(w))
        return {w, "ADJ"};
    if (kAdverbs.count(w))
        return {w, "ADV"};
    if (kAdpositions.count(w))
        return {w, "ADP"};
    // A verb form after an article ("a kick", "the turn") is a noun.
    const bool afterArticle = kDeterminers.count(previous) > 0 || kAdjectives.count(previous) > 0;
    if (const auto lemma = verbLemma(w); !lemma.empty())
        return afterArticle ? TaggedWord{lemma, "NOUN"} : TaggedWord{lemma, "VERB"};
    if (w.size() > 3 && w.compare(w.size() - 2, 2, "ly") == 0)
        return {w, "ADV"};
    return {nounLemma(w), "NOUN"};
}

} // namespace

int evalPosIndex(std::string_view tag)
{
    for (int i = 0; i < kEvalPosClasses; ++i)
        if (kPosTags[i] == tag)
            return i;
    return kEvalPosClasses - 1;
}

std::string_view evalVipClass(std::string_view word, VipLists lists)
{
    for (const auto &list : lists == VipLists::T2m ? t2mVipLists() : vipLists())
        if (std::find(list.words.begin(), list.words.end(), word) != list.words.end())
            return list.name;
    return {};
}

std::vector<TaggedWord> parseTaggedTokens(std::string_view field)
{
    std::vector<TaggedWord> out;
    std::istringstream in{std::string(field)};
    std::string token;
    while (in >> token) {
        const auto slash = token.rfind('/');
        if (slash == std::string::npos || slash == 0)
            throw InputError("caption tokens: expected word/POS, got '" + token + "'");
        out.push_back({token.substr(0, slash), token.substr(slash + 1)});
    }
    return out;
}

std::vector<TaggedWord> tagCaption(std::string_view caption)
{
    // As HumanML3D's text_process: hyphens removed, only alphabetic words kept.
    std::vector<std::string> words;
    std::string current;
    for (char c : caption) {
        if (c == '-')
            continue;
        if (std::isalpha(static_cast<unsigned char>(c))) {
            current += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!current.empty()) {
            words.push_back(current);
            current.clear();
        }
    }
    if (!current.empty())
        words.push_back(current);
    std::vector<TaggedWord> out;
    std::string previous;
    for (const auto &w : words) {
        out.push_back(tagWord(w, previous));
        previous = w;
    }
    return out;
}

WordVocabulary::WordVocabulary() : m_words{"eos", "sos", "unk"}
{
    rebuildIndex();
}

void WordVocabulary::rebuildIndex()
{
    m_index.clear();
    for (std::size_t i = 0; i < m_words.size(); ++i)
        m_index.emplace(m_words[i], static_cast<std::int64_t>(i));
    for (const char *special : {"sos", "eos", "unk"})
        if (!m_index.count(special)) {
            m_index.emplace(special, static_cast<std::int64_t>(m_words.size()));
            m_words.emplace_back(special);
            if (m_vectors.defined())
                m_vectors = torch::cat({m_vectors, torch::zeros({1, m_vectors.size(1)})});
        }
    m_unk = m_index.at("unk");
}

WordVocabulary WordVocabulary::fromCaptions(const std::vector<std::vector<TaggedWord>> &captions,
                                            int minCount)
{
    std::map<std::string, int> counts;
    for (const auto &caption : captions)
        for (const auto &token : caption)
            ++counts[token.word];
    WordVocabulary vocabulary;
    std::vector<std::string> words = {"eos", "sos", "unk"};
    for (const auto &[word, count] : counts)
        if (count >= minCount && word != "sos" && word != "eos" && word != "unk")
            words.push_back(word);
    vocabulary.m_words = std::move(words);
    vocabulary.rebuildIndex();
    return vocabulary;
}

WordVocabulary WordVocabulary::fromGloveText(const std::filesystem::path &path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path.string() + ": cannot open the word-vector file");
    WordVocabulary vocabulary;
    vocabulary.m_words.clear();
    vocabulary.m_index.clear();
    std::vector<float> values;
    std::int64_t dim = -1;
    std::string line;
    std::int64_t lineNumber = 0;
    while (std::getline(in, line)) {
        ++lineNumber;
        if (line.empty() || line == "\r")
            continue;
        std::istringstream row(line);
        std::string word;
        row >> word;
        std::int64_t count = 0;
        float v = 0.0f;
        while (row >> v) {
            values.push_back(v);
            ++count;
        }
        if (!row.eof())
            throw InputError(path.string() + ": line " + std::to_string(lineNumber) +
                             ": not a number after '" + word + "'");
        if (dim < 0)
            dim = count;
        if (count != dim || count == 0)
            throw InputError(path.string() + ": line " + std::to_string(lineNumber) +
                             ": expected " + std::to_string(dim) + " values, got " +
                             std::to_string(count));
        if (vocabulary.m_index.count(word))
            throw InputError(path.string() + ": line " + std::to_string(lineNumber) +
                             ": duplicate word '" + word + "'");
        vocabulary.m_index.emplace(word, static_cast<std::int64_t>(vocabulary.m_words.size()));
        vocabulary.m_words.push_back(word);
    }
    if (vocabulary.m_words.empty())
        throw InputError(path.string() + ": no word vectors");
    vocabulary.m_vectors =
        torch::from_blob(values.data(), {static_cast<std::int64_t>(vocabulary.m_words.size()), dim},
                         torch::kFloat32)
            .clone();
    vocabulary.rebuildIndex();
    return vocabulary;
}

WordVocabulary WordVocabulary::fromVectors(std::vector<std::string> words,
                                           const at::Tensor &vectors, const std::string &source)
{
    if (vectors.dim() != 2 || vectors.size(0) != static_cast<std::int64_t>(words.size()) ||
        words.empty())
        throw InputError(source + ": " + std::to_string(words.size()) +
                         " words do not match word vectors of shape " +
                         std::to_string(vectors.dim() == 2 ? vectors.size(0) : -1) + " x " +
                         std::to_string(vectors.dim() == 2 ? vectors.size(1) : -1));
    WordVocabulary vocabulary;
    vocabulary.m_words = std::move(words);
    vocabulary.m_index.clear();
    for (std::size_t i = 0; i < vocabulary.m_words.size(); ++i)
        if (!vocabulary.m_index.emplace(vocabulary.m_words[i], static_cast<std::int64_t>(i)).second)
            throw InputError(source + ": duplicate word '" + vocabulary.m_words[i] + "'");
    vocabulary.m_vectors = vectors.to(torch::kCPU, torch::kFloat32).contiguous().clone();
    vocabulary.rebuildIndex();
    return vocabulary;
}

WordVocabulary WordVocabulary::fromWordList(const std::filesystem::path &path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path.string() + ": cannot open the vocabulary file");
    WordVocabulary vocabulary;
    vocabulary.m_words.clear();
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty())
            continue;
        if (line.find(' ') != std::string::npos)
            throw InputError(path.string() + ": a word with a space: '" + line + "'");
        vocabulary.m_words.push_back(line);
    }
    vocabulary.rebuildIndex();
    if (vocabulary.m_index.size() != vocabulary.m_words.size())
        throw InputError(path.string() + ": duplicate words");
    return vocabulary;
}

void WordVocabulary::saveWords(const std::filesystem::path &path) const
{
    const auto temporary = path.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        for (const auto &w : m_words)
            out << w << '\n';
        if (!out)
            throw InputError(path.string() + ": cannot write the vocabulary");
    }
    std::filesystem::rename(temporary, path);
}

bool WordVocabulary::contains(std::string_view word) const
{
    return m_index.count(std::string(word)) > 0;
}

std::int64_t WordVocabulary::index(std::string_view word) const
{
    const auto it = m_index.find(std::string(word));
    return it == m_index.end() ? m_unk : it->second;
}

EncodedText encodeText(const std::vector<TaggedWord> &tokens, const WordVocabulary &vocabulary,
                       VipLists lists)
{
    const int other = evalPosIndex("OTHER");
    EncodedText encoded;
    encoded.wordIds.push_back(vocabulary.index("sos"));
    encoded.posIds.push_back(other);
    const std::size_t kept = std::min<std::size_t>(tokens.size(), kEvalMaxTextWords);
    for (std::size_t i = 0; i < kept; ++i) {
        const auto &token = tokens[i];
        if (vocabulary.contains(token.word)) {
            encoded.wordIds.push_back(vocabulary.index(token.word));
            const auto vip = evalVipClass(token.word, lists);
            encoded.posIds.push_back(evalPosIndex(vip.empty() ? std::string_view(token.pos) : vip));
        } else {
            encoded.wordIds.push_back(vocabulary.unkIndex());
            encoded.posIds.push_back(other);
        }
    }
    encoded.wordIds.push_back(vocabulary.index("eos"));
    encoded.posIds.push_back(other);
    encoded.length = static_cast<std::int64_t>(encoded.wordIds.size());
    while (encoded.wordIds.size() < kEvalTextTokens) {
        encoded.wordIds.push_back(vocabulary.unkIndex());
        encoded.posIds.push_back(other);
    }
    return encoded;
}

TextBatch makeTextBatch(const std::vector<EncodedText> &texts)
{
    const auto batch = static_cast<std::int64_t>(texts.size());
    auto wordIds = torch::empty({batch, kEvalTextTokens}, torch::kLong);
    auto posIds = torch::empty({batch, kEvalTextTokens}, torch::kLong);
    auto lengths = torch::empty({batch}, torch::kLong);
    auto words = wordIds.accessor<std::int64_t, 2>();
    auto pos = posIds.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < batch; ++b) {
        const auto &t = texts[b];
        if (t.wordIds.size() != kEvalTextTokens || t.posIds.size() != kEvalTextTokens)
            throw std::invalid_argument("makeTextBatch: a text is not encoded to 22 tokens");
        for (int i = 0; i < kEvalTextTokens; ++i) {
            words[b][i] = t.wordIds[i];
            pos[b][i] = t.posIds[i];
        }
        lengths[b] = t.length;
    }
    return {wordIds, torch::one_hot(posIds, kEvalPosClasses).to(torch::kFloat32), lengths};
}

} // namespace mp
