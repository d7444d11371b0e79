#include "ml/data/corpus/lexicon.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

namespace mp::corpus {
namespace {

// A word's lemma and its possible tags; the first tag is the default. Two-tag words are resolved
// by context in tagCaption (NOUN/VERB by the word before, ADJ/ADV by the word after).
struct Entry {
    std::string lemma;
    std::vector<std::string> tags;
};

using Lexicon = std::map<std::string, Entry, std::less<>>;

void addVerb(Lexicon &lex, const std::string &lemma, std::initializer_list<std::string> forms,
             bool alsoNoun = false)
{
    const std::vector<std::string> tags =
        alsoNoun ? std::vector<std::string>{"VERB", "NOUN"} : std::vector<std::string>{"VERB"};
    lex[lemma] = {lemma, tags};
    for (const std::string &form : forms)
        lex[form] = {lemma, tags};
}

void addWords(Lexicon &lex, const std::string &tag, std::initializer_list<std::string> words)
{
    for (const std::string &word : words)
        lex[word] = {word, {tag}};
}

const Lexicon &lexicon()
{
    static const Lexicon lex = [] {
        Lexicon l;
        addVerb(l, "walk", {"walks", "walking"});
        addVerb(l, "stroll", {"strolls", "strolling"});
        addVerb(l, "take", {"takes", "taking"});
        addVerb(l, "jog", {"jogs", "jogging"});
        addVerb(l, "run", {"runs", "running"});
        addVerb(l, "sprint", {"sprints", "sprinting"});
        addVerb(l, "step", {"steps", "stepping"}, true);
        addVerb(l, "move", {"moves", "moving"});
        addVerb(l, "sidestep", {"sidesteps", "sidestepping"});
        addVerb(l, "shuffle", {"shuffles", "shuffling"});
        addVerb(l, "turn", {"turns", "turning"});
        addVerb(l, "rotate", {"rotates", "rotating"});
        addVerb(l, "pivot", {"pivots", "pivoting"});
        addVerb(l, "spin", {"spins", "spinning"}, true);
        addVerb(l, "twirl", {"twirls", "twirling"});
        addVerb(l, "do", {"does", "doing"});
        addVerb(l, "jump", {"jumps", "jumping"});
        addVerb(l, "leap", {"leaps", "leaping"});
        addVerb(l, "hop", {"hops", "hopping"});
        addVerb(l, "perform", {"performs", "performing"});
        addVerb(l, "squat", {"squats", "squatting"}, true);
        addVerb(l, "sit", {"sits", "sitting"});
        addVerb(l, "get", {"gets", "getting"});
        addVerb(l, "rise", {"rises", "rising"});
        addVerb(l, "stand", {"stands", "standing"});
        addVerb(l, "kneel", {"kneels", "kneeling"});
        addVerb(l, "crouch", {"crouches", "crouching"});
        addVerb(l, "duck", {"ducks", "ducking"});
        addVerb(l, "kick", {"kicks", "kicking"});
        addVerb(l, "balance", {"balances", "balancing"});
        addVerb(l, "bow", {"bows", "bowing"}, true);
        addVerb(l, "wave", {"waves", "waving"});
        addVerb(l, "clap", {"claps", "clapping"});
        addVerb(l, "applaud", {"applauds", "applauding"});
        addVerb(l, "punch", {"punches", "punching"}, true);
        addVerb(l, "jab", {"jabs", "jabbing"});
        addVerb(l, "throw", {"throws", "throwing"});
        addVerb(l, "toss", {"tosses", "tossing"});
        addVerb(l, "raise", {"raises", "raising"});
        addVerb(l, "lift", {"lifts", "lifting"});
        addVerb(l, "stretch", {"stretches", "stretching"});
        addVerb(l, "make", {"makes", "making"});
        addVerb(l, "dance", {"dances", "dancing"});
        addVerb(l, "sway", {"sways", "swaying"});
        addVerb(l, "curve", {"curves", "curving"});
        addVerb(l, "veer", {"veers", "veering"});
        addVerb(l, "alternate", {"alternates", "alternating"});
        addVerb(l, "use", {"uses", "using"});
        addVerb(l, "back", {"backs", "backing"});
        addWords(l, "DET", {"a", "an", "the", "his", "her", "their", "its", "both"});
        addWords(l, "PRON", {"someone", "he", "she", "something", "that"});
        addWords(l, "NOUN",
                 {"person", "man",        "woman", "figure", "human",  "line",   "place", "spot",
                  "circle", "semicircle", "chair", "seat",   "knee",   "leg",    "foot",  "hand",
                  "arm",    "fist",       "head",  "ball",   "object", "motion", "music", "side",
                  "pace",   "jack",       "hip",   "degree", "time"});
        // Plurals: lemma is the singular.
        for (const auto &[plural, singular] :
             std::initializer_list<std::pair<std::string, std::string>>{{"hands", "hand"},
                                                                        {"arms", "arm"},
                                                                        {"fists", "fist"},
                                                                        {"hips", "hip"},
                                                                        {"jacks", "jack"},
                                                                        {"degrees", "degree"},
                                                                        {"times", "time"},
                                                                        {"legs", "leg"}})
            l[plural] = {singular, {"NOUN"}};
        addWords(l, "ADV", {"forward", "ahead",      "backward",         "backwards", "sideways",
                            "around",  "clockwise",  "counterclockwise", "slowly",    "quickly",
                            "rapidly", "leisurely",  "vertically",       "far",       "deeply",
                            "briefly", "repeatedly", "happily",          "overhead",  "upward",
                            "once",    "twice",      "finally",          "then",      "first",
                            "reverse"});
        addWords(
            l, "ADP",
            {"to", "in", "on", "with", "from", "above", "at", "before", "after", "up", "down"});
        addWords(l, "ADJ", {"slow", "full"});
        addWords(l, "NUM",
                 {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                  "ten", "eleven", "twelve", "ninety"});
        addWords(l, "OTHER", {"and", "while", "hello"});
        // Words that are adjectives before a noun and adverbs elsewhere ("left hand", "turns
        // left").
        for (const char *word : {"left", "right", "straight", "fast", "high", "low"})
            l[word] = {word, {"ADJ", "ADV"}};
        return l;
    }();
    return lex;
}

bool isNumber(const std::string &word)
{
    return !word.empty() && std::all_of(word.begin(), word.end(),
                                        [](unsigned char ch) { return std::isdigit(ch) != 0; });
}

const Entry *find(const std::string &word)
{
    static const Entry kNumber{"", {"NUM"}};
    const Lexicon &lex = lexicon();
    if (auto it = lex.find(word); it != lex.end())
        return &it->second;
    if (isNumber(word))
        return &kNumber;
    return nullptr;
}

int numberValue(const std::string &word)
{
    static const std::map<std::string, int, std::less<>> kValues{
        {"one", 1},   {"two", 2},   {"three", 3}, {"four", 4}, {"five", 5},    {"six", 6},
        {"seven", 7}, {"eight", 8}, {"nine", 9},  {"ten", 10}, {"eleven", 11}, {"twelve", 12}};
    if (auto it = kValues.find(word); it != kValues.end())
        return it->second;
    if (isNumber(word) && word.size() < 6)
        return std::stoi(word);
    return -1;
}

} // namespace

std::vector<std::string> splitWords(std::string_view caption, bool keepCommas)
{
    std::vector<std::string> words;
    std::string current;
    const auto flush = [&] {
        if (!current.empty())
            words.push_back(std::move(current));
        current.clear();
    };
    for (char ch : caption) {
        const auto uc = static_cast<unsigned char>(ch);
        if (std::isalnum(uc) || ch == '\'') {
            current += static_cast<char>(std::tolower(uc));
        } else {
            flush();
            if (ch == ',' && keepCommas)
                words.emplace_back(",");
        }
    }
    flush();
    return words;
}

bool inLexicon(std::string_view word)
{
    return find(std::string(word)) != nullptr;
}

std::vector<TaggedWord> tagCaption(std::string_view caption)
{
    const std::vector<std::string> words = splitWords(caption);
    std::vector<const Entry *> entries;
    for (const std::string &word : words) {
        const Entry *entry = find(word);
        if (!entry)
            throw std::runtime_error("corpus lexicon: no entry for '" + word + "' in \"" +
                                     std::string(caption) + "\"");
        entries.push_back(entry);
    }
    std::vector<TaggedWord> tagged;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const Entry &e = *entries[i];
        std::string tag = e.tags.front();
        if (e.tags.size() > 1 && e.tags[0] == "VERB") {
            // A noun after a determiner, number or adjective ("four steps", "a full spin").
            const std::string prev = i > 0 ? tagged[i - 1].pos : "";
            if (prev == "DET" || prev == "NUM" || prev == "ADJ")
                tag = "NOUN";
        } else if (e.tags.size() > 1 && e.tags[0] == "ADJ") {
            const bool nounNext = i + 1 < words.size() && entries[i + 1]->tags.front() == "NOUN";
            const bool afterDet = i > 0 && tagged[i - 1].pos == "DET";
            tag = nounNext ? "ADJ" : (afterDet ? "NOUN" : "ADV"); // "to the left": a noun
        }
        tagged.push_back({e.lemma.empty() ? words[i] : e.lemma, tag});
    }
    return tagged;
}

std::string humanml3dTextLine(std::string_view caption, double startS, double endS)
{
    std::string line(caption);
    line += '#';
    bool first = true;
    for (const TaggedWord &t : tagCaption(caption)) {
        if (!first)
            line += ' ';
        first = false;
        line += t.lemma + '/' + t.pos;
    }
    char times[64];
    std::snprintf(times, sizeof times, "#%.1f#%.1f", startS, endS);
    return line + times;
}

namespace {

// Decides the action of one clause from its lemmas. The order of the tests matters: more
// specific cues ("jumping jacks", "throw a punch", "stretch sideways") come first.
std::optional<Action> clauseAction(const std::set<std::string> &l)
{
    const auto has = [&](std::initializer_list<const char *> words) {
        return std::any_of(words.begin(), words.end(), [&](const char *w) { return l.count(w); });
    };
    if (has({"jack"}))
        return Action::JumpingJacks;
    if (has({"punch", "jab"}))
        return Action::Punch;
    if (has({"throw", "toss"}))
        return Action::Throw;
    if (has({"hop"}))
        return Action::Hop;
    if (has({"jump", "leap"}))
        return has({"forward", "ahead", "far"}) ? Action::JumpForward : Action::JumpInPlace;
    if (has({"spin", "twirl"}))
        return Action::Spin;
    if (has({"circle", "semicircle"}))
        return Action::WalkCircle;
    if (has({"turn", "rotate", "pivot"}))
        return Action::Turn;
    if (has({"stretch"}))
        return Action::Stretch;
    if (has({"sidestep", "sideways", "shuffle"}))
        return Action::Sidestep;
    if (has({"backward", "backwards", "reverse", "back"}))
        return Action::WalkBackward;
    if (has({"jog"}))
        return Action::Jog;
    if (has({"run", "sprint"}))
        return Action::Run;
    if (has({"walk", "stroll"}) || (has({"take"}) && has({"step"})))
        return Action::Walk;
    if (has({"kneel"}) || (has({"get"}) && has({"knee"})))
        return Action::Kneel;
    if (has({"sit", "seat"}))
        return Action::SitDown;
    if (has({"balance"}) || (has({"stand"}) && has({"leg", "foot"})))
        return Action::Balance;
    if (has({"rise"}) || (has({"stand", "get"}) && has({"up"})))
        return Action::StandUp;
    if (has({"crouch", "duck"}))
        return Action::Crouch;
    if (has({"squat"}))
        return Action::Squat;
    if (has({"kick"}))
        return Action::Kick;
    if (has({"bow"}))
        return Action::Bow;
    if (has({"wave"}))
        return Action::Wave;
    if (has({"clap", "applaud"}))
        return Action::Clap;
    if (has({"raise", "lift"}))
        return Action::RaiseArms;
    if (has({"dance", "sway"}))
        return Action::DanceSway;
    return std::nullopt;
}

ParsedAction parseClause(Action action, const std::vector<std::string> &words,
                         const std::vector<TaggedWord> &tags)
{
    ParsedAction parsed{action, std::nullopt, std::nullopt};
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string &w = words[i];
        if (w == "left" || w == "counterclockwise")
            parsed.side = Side::Left;
        else if (w == "right" || w == "clockwise")
            parsed.side = Side::Right;
        else if (w == "both" || w == "alternating")
            parsed.side = Side::Both;
        if (w == "once")
            parsed.count = 1;
        else if (w == "twice")
            parsed.count = 2;
        else if (tags[i].pos == "NUM" && i + 1 < words.size()) {
            // "two full spins": the counted noun may follow an adjective.
            std::size_t at = i + 1;
            if (tags[at].pos == "ADJ" && at + 1 < words.size())
                ++at;
            const std::string &next = tags[at].lemma;
            const bool counted = next == "time" || next == "step" || next == "squat" ||
                                 next == "punch" || next == "jack" || next == "spin";
            if (counted && numberValue(w) > 0)
                parsed.count = numberValue(w);
        }
    }
    return parsed;
}

} // namespace

std::vector<ParsedAction> parseCaption(std::string_view caption)
{
    const std::vector<std::string> words = splitWords(caption, true);
    std::vector<ParsedAction> actions;
    std::vector<std::string> clause;
    const auto finish = [&] {
        if (clause.empty())
            return;
        std::string text;
        for (const std::string &w : clause)
            text += w + ' ';
        const std::vector<TaggedWord> tags = tagCaption(text);
        std::set<std::string> lemmas;
        for (const TaggedWord &t : tags)
            lemmas.insert(t.lemma);
        if (auto action = clauseAction(lemmas))
            actions.push_back(parseClause(*action, clause, tags));
        clause.clear();
    };
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string &w = words[i];
        // Clause boundaries: commas, "then", "finally", "first", "and", "before", "after".
        // "after walking, ..." and "... before turning" keep the spoken order, which is also the
        // temporal order in this grammar.
        if (w == "," || w == "then" || w == "finally" || w == "first" || w == "and" ||
            w == "before" || w == "after") {
            finish();
            if (w == "after" && i + 1 < words.size() && words[i + 1] == "that")
                ++i;
            continue;
        }
        clause.push_back(w);
    }
    finish();
    return actions;
}

} // namespace mp::corpus
