#include "ml/data/corpus/caption_grammar.h"

#include "ml/data/corpus/rng.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace mp::corpus {
namespace {

enum class VerbForm { Present, Gerund }; // "walks" / "walking"

// A verb phrase: optional adverb before the verb, the verb lemma, then the rest. Words only, no
// punctuation; the sentence builder adds commas and the final period.
struct VerbPhrase {
    std::vector<std::string> before;
    std::string verb;
    std::vector<std::string> after;
};

// Who does it, and the possessive that goes with them ("his right hand").
struct Subject {
    std::vector<std::string> words;
    std::string possessive;
    std::string pronoun; // "he"/"she"; empty where a pronoun would read badly ("someone")
};

std::string conjugate(const std::string &verb, VerbForm form)
{
    // Doubled final consonants and -es endings of the verbs the grammar uses.
    static const std::map<std::string, std::pair<std::string, std::string>> kIrregular{
        {"run", {"runs", "running"}},
        {"jog", {"jogs", "jogging"}},
        {"hop", {"hops", "hopping"}},
        {"spin", {"spins", "spinning"}},
        {"clap", {"claps", "clapping"}},
        {"step", {"steps", "stepping"}},
        {"squat", {"squats", "squatting"}},
        {"sit", {"sits", "sitting"}},
        {"stretch", {"stretches", "stretching"}},
        {"crouch", {"crouches", "crouching"}},
        {"punch", {"punches", "punching"}},
        {"do", {"does", "doing"}},
        {"get", {"gets", "getting"}},
        {"put", {"puts", "putting"}},
        {"twirl", {"twirls", "twirling"}},
        {"sidestep", {"sidesteps", "sidestepping"}},
        {"toss", {"tosses", "tossing"}},
        {"jab", {"jabs", "jabbing"}},
    };
    if (auto it = kIrregular.find(verb); it != kIrregular.end())
        return form == VerbForm::Present ? it->second.first : it->second.second;
    if (form == VerbForm::Present)
        return verb + "s";
    if (verb.size() > 1 && verb.back() == 'e' && verb != "see")
        return verb.substr(0, verb.size() - 1) + "ing";
    return verb + "ing";
}

// A small helper around the generator for choosing among phrasings.
class Chooser {
public:
    explicit Chooser(ClipRng &rng) : m_rng(rng) {}
    int index(int count) { return m_rng.integer(0, count - 1); }
    bool coin(double p = 0.5) { return m_rng.chance(p); }
    template <typename T> const T &one(const std::vector<T> &items) { return m_rng.pick(items); }

private:
    ClipRng &m_rng;
};

using Words = std::vector<std::string>;

void append(Words &to, const Words &from)
{
    to.insert(to.end(), from.begin(), from.end());
}

std::string sideWord(Side side)
{
    return side == Side::Left ? "left" : "right";
}

Words numberWords(int n)
{
    static const char *kNames[] = {"zero",  "one",   "two",  "three", "four",   "five",  "six",
                                   "seven", "eight", "nine", "ten",   "eleven", "twelve"};
    if (n >= 0 && n <= 12)
        return {kNames[n]};
    return {std::to_string(n)};
}

// "once", "twice", "three times", "3 times".
Words countWords(int n, Chooser &c)
{
    if (n == 1)
        return {"once"};
    if (n == 2 && c.coin(0.7))
        return {"twice"};
    if (c.coin(0.2))
        return {std::to_string(n), "times"};
    Words w = numberWords(n);
    w.push_back("times");
    return w;
}

Words speedWords(Speed speed, Chooser &c)
{
    switch (speed) {
    case Speed::Slow:
        return c.one<Words>({{"slowly"}, {"slowly"}, {"at", "a", "slow", "pace"}, {"leisurely"}});
    case Speed::Fast:
        return c.one<Words>({{"quickly"}, {"fast"}, {"rapidly"}, {"at", "a", "fast", "pace"}});
    case Speed::Normal:
        break;
    }
    return {};
}

// Puts a speed adverb either before the verb ("slowly walks") or after the phrase.
void addSpeed(VerbPhrase &vp, Speed speed, Chooser &c)
{
    Words words = speedWords(speed, c);
    if (words.empty())
        return;
    if (words.size() == 1 && words[0] != "fast" && c.coin(0.35))
        vp.before = words;
    else
        append(vp.after, words);
}

Words limbWords(Side side, const std::string &limb, const Subject &s, Chooser &c)
{
    const std::string det = c.coin(0.6) ? s.possessive : "the";
    if (side == Side::Both)
        return {"both", limb + "s"};
    return {det, sideWord(side), limb};
}

Words withLimb(Side side, const std::string &limb, const Subject &s, Chooser &c)
{
    Words w{c.coin(0.8) ? "with" : "using"};
    append(w, limbWords(side, limb, s, c));
    return w;
}

VerbPhrase locomotion(const Segment &seg, const Subject &s, Chooser &c)
{
    const ActionParams &p = seg.params;
    VerbPhrase vp;
    switch (seg.action) {
    case Action::Walk: {
        const int form = c.index(p.repetitions <= 12 ? 4 : 3);
        if (form == 3) {
            vp.verb = "take";
            vp.after = numberWords(p.repetitions);
            append(vp.after, {"steps", "forward"});
        } else {
            vp.verb = c.one<std::string>({"walk", "walk", "stroll"});
            append(vp.after, c.one<Words>({{"forward"}, {"forward"}, {"straight"}, {"ahead"}}));
        }
        if (p.side == Side::Left || p.side == Side::Right)
            append(vp.after, c.coin() ? Words{"while", "curving", "to", "the", sideWord(p.side)}
                                      : Words{"veering", sideWord(p.side)});
        addSpeed(vp, p.speed, c);
        break;
    }
    case Action::Jog:
        vp.verb = "jog";
        append(vp.after,
               c.one<Words>({{"forward"}, {}, {"ahead"}, {"in", "a", "straight", "line"}}));
        addSpeed(vp, p.speed, c);
        break;
    case Action::Run:
        if (p.speed == Speed::Fast && c.coin(0.4)) {
            vp.verb = "sprint";
            vp.after = {"forward"};
        } else {
            vp.verb = "run";
            append(vp.after, c.one<Words>({{"forward"}, {}, {"ahead"}}));
            addSpeed(vp, p.speed, c);
        }
        break;
    case Action::WalkBackward: {
        const int form = c.index(4);
        if (form == 0) {
            vp.verb = "take";
            vp.after = numberWords(p.repetitions);
            append(vp.after, {"steps", c.one<std::string>({"backward", "backwards", "back"})});
        } else if (form == 1) {
            vp.verb = "back";
            vp.after = {"up"};
        } else {
            vp.verb = c.one<std::string>({"walk", "step", "move"});
            append(vp.after, c.one<Words>({{"backward"}, {"backwards"}, {"in", "reverse"}}));
        }
        addSpeed(vp, p.speed, c);
        break;
    }
    case Action::Sidestep: {
        const std::string side = sideWord(p.side);
        const int form = c.index(4);
        if (form == 0) {
            vp.verb = "sidestep";
            vp.after = {"to", "the", side};
        } else if (form == 1) {
            vp.verb = c.one<std::string>({"step", "move", "shuffle"});
            vp.after = {"sideways", "to", "the", side};
        } else if (form == 2) {
            vp.verb = "take";
            vp.after = numberWords(p.repetitions);
            append(vp.after, {"steps", "sideways", "to", "the", side});
        } else {
            vp.verb = "shuffle";
            vp.after = {"to", "the", side};
        }
        addSpeed(vp, p.speed, c);
        break;
    }
    case Action::WalkCircle: {
        const bool half = p.angleDeg < 270;
        const std::string shape = half ? "semicircle" : "circle";
        vp.verb = c.one<std::string>({"walk", "walk", "stroll"});
        if (c.coin(0.3))
            vp.after.push_back("around");
        append(vp.after, {"in", "a", shape});
        if (c.coin(0.6)) {
            if (c.coin())
                append(vp.after, {"to", "the", sideWord(p.side)});
            else
                vp.after.push_back(p.side == Side::Right ? "clockwise" : "counterclockwise");
        }
        addSpeed(vp, p.speed, c);
        break;
    }
    case Action::Turn: {
        const std::string side = sideWord(p.side);
        if (p.angleDeg >= 150) {
            vp.verb = "turn";
            vp.after = {"around"};
            if (c.coin(0.4))
                append(vp.after, {"to", "the", side});
        } else {
            vp.verb = c.one<std::string>({"turn", "turn", "rotate", "pivot"});
            const int form = c.index(3);
            if (form == 0)
                vp.after = {side};
            else if (form == 1)
                vp.after = {"to", "the", side};
            else
                vp.after = {c.coin() ? "ninety" : "90", "degrees", "to", "the", side};
        }
        addSpeed(vp, p.speed, c);
        break;
    }
    case Action::Spin: {
        const int turns = std::max(1, p.angleDeg / 360);
        if (c.coin(0.3)) {
            vp.verb = "do";
            vp.after = turns == 1 ? Words{"a", "full", "spin"} : Words{"two", "full", "spins"};
        } else {
            vp.verb = c.one<std::string>({"spin", "spin", "twirl"});
            append(vp.after,
                   c.one<Words>({{"around"}, {"in", "place"}, {"around", "in", "place"}}));
            if (turns > 1 || c.coin(0.3))
                append(vp.after, countWords(turns, c));
            if (c.coin(0.3))
                append(vp.after, {"to", "the", sideWord(p.side)});
        }
        addSpeed(vp, p.speed, c);
        break;
    }
    default:
        throw std::runtime_error("caption grammar: not a locomotion action");
    }
    return vp;
}

VerbPhrase jumps(const Segment &seg, const Subject &s, Chooser &c)
{
    const ActionParams &p = seg.params;
    VerbPhrase vp;
    switch (seg.action) {
    case Action::JumpInPlace:
        vp.verb = c.one<std::string>({"jump", "jump", "leap"});
        append(vp.after,
               c.one<Words>({{"in", "place"}, {"up"}, {"on", "the", "spot"}, {"vertically"}}));
        if (p.amplitude > 1.15f && c.coin(0.6))
            vp.after.push_back("high");
        if (p.repetitions > 1 || c.coin(0.4))
            append(vp.after, countWords(p.repetitions, c));
        break;
    case Action::JumpForward:
        vp.verb = c.one<std::string>({"jump", "jump", "leap"});
        if (p.amplitude > 1.15f && c.coin(0.5))
            vp.after.push_back("far");
        append(vp.after, c.one<Words>({{"forward"}, {"forward"}, {"ahead"}}));
        if (p.repetitions > 1 || c.coin(0.4))
            append(vp.after, countWords(p.repetitions, c));
        break;
    case Action::Hop: {
        vp.verb = "hop";
        Words on{"on"};
        if (c.coin(0.3))
            append(on, {"one", c.one<std::string>({"leg", "foot"})});
        else
            append(on, limbWords(p.side, c.one<std::string>({"leg", "foot"}), s, c));
        if (c.coin()) {
            append(vp.after, on);
            if (c.coin(0.5))
                append(vp.after, countWords(p.repetitions, c));
        } else {
            append(vp.after, countWords(p.repetitions, c));
            append(vp.after, on);
        }
        break;
    }
    case Action::JumpingJacks:
        vp.verb = c.one<std::string>({"do", "do", "perform"});
        if (c.coin(0.5))
            append(vp.after, numberWords(p.repetitions));
        append(vp.after, {"jumping", "jacks"});
        addSpeed(vp, p.speed, c);
        break;
    default:
        throw std::runtime_error("caption grammar: not a jump");
    }
    return vp;
}

VerbPhrase lowerBody(const Segment &seg, const Subject &s, Chooser &c)
{
    const ActionParams &p = seg.params;
    VerbPhrase vp;
    switch (seg.action) {
    case Action::Squat:
        if (c.coin(0.4)) {
            vp.verb = c.one<std::string>({"do", "perform"});
            vp.after = p.repetitions == 1 ? Words{"a", "squat"} : numberWords(p.repetitions);
            if (p.repetitions > 1)
                vp.after.push_back("squats");
        } else {
            vp.verb = "squat";
            if (c.coin())
                vp.after.push_back("down");
            if (p.amplitude > 1.15f && c.coin())
                vp.after.push_back("deeply");
            if (p.repetitions > 1 || c.coin(0.3))
                append(vp.after, countWords(p.repetitions, c));
        }
        addSpeed(vp, p.speed, c);
        break;
    case Action::SitDown:
        if (c.coin(0.25)) {
            vp.verb = "take";
            vp.after = {"a", "seat"};
        } else {
            vp.verb = "sit";
            vp.after = {"down"};
            if (c.coin(0.4))
                append(vp.after, c.one<Words>({{"on", "a", "chair"}, {"on", "a", "seat"}}));
        }
        addSpeed(vp, p.speed, c);
        break;
    case Action::StandUp:
        if (c.coin(0.3)) {
            vp.verb = "get";
            vp.after = {"up"};
        } else if (c.coin(0.3)) {
            vp.verb = "rise";
            vp.after = {"from", "the", "chair"};
        } else {
            vp.verb = "stand";
            vp.after = {"up"};
            if (c.coin(0.3))
                append(vp.after, {"from", "the", "chair"});
        }
        addSpeed(vp, p.speed, c);
        break;
    case Action::Kneel:
        if (c.coin(0.3)) {
            vp.verb = "get";
            vp.after = {"down", "on", "one", "knee"};
        } else {
            vp.verb = "kneel";
            append(vp.after, c.one<Words>({{"down"}, {"on", "one", "knee"}, {}}));
            if (c.coin(0.4))
                append(vp.after, Words{"on"}), append(vp.after, limbWords(p.side, "knee", s, c));
        }
        addSpeed(vp, p.speed, c);
        break;
    case Action::Crouch:
        vp.verb = c.one<std::string>({"crouch", "crouch", "duck"});
        append(vp.after, c.one<Words>({{"down"}, {"low"}, {"down", "low"}, {}}));
        if (p.amplitude < 0.85f && c.coin())
            vp.after.push_back("briefly");
        break;
    case Action::Kick:
        vp.verb = "kick";
        if (c.coin(0.4))
            vp.after.push_back(c.one<std::string>({"forward", "high"}));
        if (p.repetitions > 1 && c.coin(0.5)) {
            append(vp.after, countWords(p.repetitions, c));
            append(vp.after, withLimb(p.side, c.one<std::string>({"leg", "foot"}), s, c));
        } else {
            append(vp.after, withLimb(p.side, c.one<std::string>({"leg", "foot"}), s, c));
            if (p.repetitions > 1)
                append(vp.after, countWords(p.repetitions, c));
        }
        break;
    case Action::Balance:
        if (c.coin(0.4)) {
            vp.verb = "stand";
            vp.after = {"on"};
        } else {
            vp.verb = "balance";
            vp.after = {"on"};
        }
        if (c.coin(0.3))
            append(vp.after, {"one", "leg"});
        else
            append(vp.after, limbWords(p.side, c.one<std::string>({"leg", "foot"}), s, c));
        break;
    case Action::Bow:
        if (p.repetitions == 1 && c.coin(0.2)) {
            vp.verb = "take";
            vp.after = {"a", "bow"};
        } else {
            vp.verb = "bow";
            if (p.amplitude > 1.1f && c.coin(0.6))
                vp.after.push_back("deeply");
            else if (c.coin(0.4))
                vp.after.push_back("forward");
            if (p.repetitions > 1 || c.coin(0.2))
                append(vp.after, countWords(p.repetitions, c));
        }
        addSpeed(vp, p.speed, c);
        break;
    default:
        throw std::runtime_error("caption grammar: not a lower-body action");
    }
    return vp;
}

VerbPhrase upperBody(const Segment &seg, const Subject &s, Chooser &c)
{
    const ActionParams &p = seg.params;
    VerbPhrase vp;
    switch (seg.action) {
    case Action::Wave:
        vp.verb = "wave";
        if (c.coin(0.5))
            append(vp.after, limbWords(p.side, "hand", s, c));
        else
            append(vp.after, withLimb(p.side, c.one<std::string>({"hand", "arm"}), s, c));
        if (c.coin(0.25))
            vp.after.push_back("hello");
        if (p.repetitions >= 4 && c.coin(0.3))
            vp.after.push_back("repeatedly");
        break;
    case Action::Clap:
        if (c.coin(0.2)) {
            vp.verb = "applaud";
        } else {
            vp.verb = "clap";
            if (c.coin(0.6))
                append(vp.after, {c.coin() ? s.possessive : "the", "hands"});
            if (c.coin(0.6))
                append(vp.after, countWords(p.repetitions, c));
        }
        addSpeed(vp, p.speed, c);
        break;
    case Action::Punch:
        if (c.coin(0.25)) {
            vp.verb = "throw";
            vp.after = p.repetitions == 1 ? Words{"a", "punch"} : numberWords(p.repetitions);
            if (p.repetitions > 1)
                vp.after.push_back("punches");
            if (p.side != Side::Both)
                append(vp.after, withLimb(p.side, c.one<std::string>({"hand", "fist"}), s, c));
        } else {
            vp.verb = c.one<std::string>({"punch", "punch", "jab"});
            if (c.coin(0.5))
                vp.after.push_back("forward");
            if (p.side == Side::Both)
                append(vp.after, c.one<Words>({{"with", "both", "fists"},
                                               {"with", "both", "hands"},
                                               {"alternating", "hands"}}));
            else
                append(vp.after,
                       withLimb(p.side, c.one<std::string>({"hand", "fist", "arm"}), s, c));
            if (p.repetitions > 1 && c.coin(0.6))
                append(vp.after, countWords(p.repetitions, c));
        }
        addSpeed(vp, p.speed, c);
        break;
    case Action::RaiseArms:
        vp.verb = c.one<std::string>({"raise", "raise", "lift"});
        if (p.side == Side::Both)
            append(vp.after,
                   c.one<Words>({{"both", "arms"}, {s.possessive, "arms"}, {"both", "hands"}}));
        else
            append(vp.after, limbWords(p.side, c.one<std::string>({"arm", "hand"}), s, c));
        append(vp.after, c.one<Words>({{"up"}, {"above", s.possessive, "head"}, {"overhead"}, {}}));
        addSpeed(vp, p.speed, c);
        break;
    case Action::Stretch:
        vp.verb = "stretch";
        if (p.side == Side::Left || p.side == Side::Right) {
            append(vp.after, c.one<Words>({{"to", "the", sideWord(p.side)},
                                           {"sideways", "to", "the", sideWord(p.side)}}));
        } else {
            append(
                vp.after,
                c.one<Words>(
                    {{s.possessive, "arms", "overhead"}, {"upward"}, {"the", "arms", "up"}, {}}));
        }
        addSpeed(vp, p.speed, c);
        break;
    case Action::Throw:
        if (c.coin(0.3)) {
            vp.verb = "make";
            vp.after = {"a", "throwing", "motion"};
        } else {
            vp.verb = c.one<std::string>({"throw", "throw", "toss"});
            append(vp.after, c.one<Words>({{"something"}, {"a", "ball"}, {"an", "object"}}));
            if (c.coin(0.3))
                vp.after.push_back("forward");
        }
        if (c.coin(0.6))
            append(vp.after, withLimb(p.side, c.one<std::string>({"hand", "arm"}), s, c));
        break;
    case Action::DanceSway:
        if (c.coin(0.4)) {
            vp.verb = "dance";
            append(vp.after,
                   c.one<Words>({{}, {"in", "place"}, {"happily"}, {"to", "the", "music"}}));
        } else {
            vp.verb = "sway";
            append(vp.after, c.one<Words>({{"from", "side", "to", "side"},
                                           {"side", "to", "side"},
                                           {"to", "the", "music"},
                                           {s.possessive, "hips"}}));
        }
        addSpeed(vp, p.speed, c);
        break;
    default:
        throw std::runtime_error("caption grammar: not an upper-body action");
    }
    return vp;
}

VerbPhrase describe(const Segment &seg, const Subject &s, Chooser &c)
{
    switch (actionInfo(seg.action).family) {
    case Family::Locomotion:
        return locomotion(seg, s, c);
    case Family::Jump:
        return jumps(seg, s, c);
    case Family::LowerBody:
        return lowerBody(seg, s, c);
    case Family::UpperBody:
        return upperBody(seg, s, c);
    }
    throw std::runtime_error("caption grammar: unknown family");
}

Words render(const VerbPhrase &vp, VerbForm form)
{
    Words w = vp.before;
    w.push_back(conjugate(vp.verb, form));
    append(w, vp.after);
    return w;
}

Subject pickSubject(Chooser &c)
{
    static const std::vector<Subject> kSubjects{
        {{"a", "person"}, "his", ""},   {{"a", "person"}, "their", ""},
        {{"the", "person"}, "his", ""}, {{"someone"}, "their", ""},
        {{"a", "man"}, "his", "he"},    {{"the", "man"}, "his", "he"},
        {{"a", "woman"}, "her", "she"}, {{"the", "woman"}, "her", "she"},
        {{"a", "figure"}, "its", ""},   {{"a", "human"}, "his", ""},
    };
    return c.one(kSubjects);
}

// One sentence for the whole sequence, with one of several orderings of clauses.
Words sentence(const std::vector<Segment> &segments, Chooser &c)
{
    const Subject s = pickSubject(c);
    std::vector<VerbPhrase> vps;
    for (const Segment &seg : segments)
        vps.push_back(describe(seg, s, c));

    Words w;
    const auto present = [&](std::size_t i) { return render(vps[i], VerbForm::Present); };
    const auto gerund = [&](std::size_t i) { return render(vps[i], VerbForm::Gerund); };
    if (vps.size() == 1) {
        w = s.words;
        append(w, present(0));
        return w;
    }
    const int form = c.index(vps.size() == 2 ? 6 : 4);
    if (form == 1 && vps.size() >= 2) {
        // "after walking forward, a person turns left[, and then ...]"
        w = {"after"};
        append(w, gerund(0));
        w.push_back(",");
        append(w, s.words);
        append(w, present(1));
        for (std::size_t i = 2; i < vps.size(); ++i) {
            append(w, {"and", "then"});
            append(w, present(i));
        }
        return w;
    }
    if (form == 2 && vps.size() == 2) {
        // "a person walks forward before turning left"
        w = s.words;
        append(w, present(0));
        w.push_back("before");
        append(w, gerund(1));
        return w;
    }
    if (form == 3 && !s.pronoun.empty()) {
        // "first, a man walks forward, then he turns left"
        w = {"first", ","};
        append(w, s.words);
        append(w, present(0));
        for (std::size_t i = 1; i < vps.size(); ++i) {
            w.push_back(",");
            w.push_back(i + 1 == vps.size() && vps.size() > 2 ? "finally" : "then");
            w.push_back(s.pronoun);
            append(w, present(i));
        }
        return w;
    }
    w = s.words;
    append(w, present(0));
    for (std::size_t i = 1; i < vps.size(); ++i) {
        const bool last = i + 1 == vps.size();
        if (last && vps.size() == 3 && c.coin(0.5))
            append(w, {",", "and", "finally"});
        else if (c.coin(0.3))
            append(w, {"and", "then"});
        else if (c.coin(0.2))
            append(w, {",", "after", "that"});
        else
            append(w, {",", "then"});
        append(w, present(i));
    }
    return w;
}

std::string join(const Words &words)
{
    std::string out;
    for (const std::string &word : words) {
        if (word.empty())
            continue;
        if (!out.empty() && word != ",")
            out += ' ';
        out += word;
    }
    return out;
}

} // namespace

std::vector<std::string> makeCaptions(const std::vector<Segment> &segments, ClipRng &rng,
                                      int minCount, int maxCount)
{
    if (segments.empty())
        throw std::runtime_error("makeCaptions: no segments");
    Chooser c(rng);
    const int wanted = c.index(maxCount - minCount + 1) + minCount;
    std::vector<std::string> captions;
    // The grammar has far more than four phrasings for every action, so this ends quickly; the
    // bound only guards against a grammar bug.
    for (int attempt = 0; attempt < 200 && static_cast<int>(captions.size()) < wanted; ++attempt) {
        std::string text = join(sentence(segments, c));
        if (c.coin(0.7))
            text += '.';
        const bool seen = std::any_of(captions.begin(), captions.end(), [&](const std::string &x) {
            return x.substr(0, x.find_last_not_of('.') + 1) ==
                   text.substr(0, text.find_last_not_of('.') + 1);
        });
        if (!seen)
            captions.push_back(std::move(text));
    }
    if (static_cast<int>(captions.size()) < minCount)
        throw std::runtime_error("makeCaptions: the grammar gave too few distinct captions");
    return captions;
}

} // namespace mp::corpus
