// The corpus vocabulary: action names, the caption grammar, the lexicon's tags, and parsing a
// caption back to the actions of its clip.

#include "ml/data/corpus/action.h"
#include "ml/data/corpus/caption_grammar.h"
#include "ml/data/corpus/composer.h"
#include "ml/data/corpus/lexicon.h"
#include "ml/data/corpus/rng.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace mp::corpus;

TEST(CorpusActions, TableIsInEnumOrderWithUniqueNames)
{
    std::set<std::string_view> names;
    for (int a = 0; a < kNumActions; ++a) {
        EXPECT_EQ(static_cast<int>(actionInfo(Action(a)).action), a);
        EXPECT_TRUE(names.insert(actionName(Action(a))).second);
        EXPECT_EQ(actionFromName(actionName(Action(a))), Action(a));
    }
    EXPECT_GE(kNumActions, 25);
    EXPECT_FALSE(actionFromName("moonwalk").has_value());
}

TEST(CorpusRng, SameSeedSameStreamSameNumbers)
{
    ClipRng a(7, 3), b(7, 3), c(7, 4), d(8, 3);
    for (int i = 0; i < 5; ++i) {
        const auto x = a.next();
        EXPECT_EQ(x, b.next());
        EXPECT_NE(x, c.next());
        EXPECT_NE(x, d.next());
    }
    ClipRng r(1, 1);
    for (int i = 0; i < 1000; ++i) {
        const int v = r.integer(2, 5);
        EXPECT_GE(v, 2);
        EXPECT_LE(v, 5);
        const double u = r.uniform();
        EXPECT_GE(u, 0.0);
        EXPECT_LT(u, 1.0);
    }
}

TEST(CorpusLexicon, TagsAHumanML3DLine)
{
    EXPECT_EQ(humanml3dTextLine("a man waves his left hand."),
              "a man waves his left hand.#a/DET man/NOUN wave/VERB his/DET left/ADJ hand/NOUN"
              "#0.0#0.0");
    const auto tags = tagCaption("someone turns left, then takes four steps forward");
    ASSERT_EQ(tags.size(), 8u);
    EXPECT_EQ(tags[2].lemma, "left");
    EXPECT_EQ(tags[2].pos, "ADV"); // no noun follows
    EXPECT_EQ(tags[6].lemma, "step");
    EXPECT_EQ(tags[6].pos, "NOUN"); // after a number
    EXPECT_THROW(tagCaption("a person moonwalks"), std::runtime_error);
}

TEST(CorpusLexicon, ParsesHandWrittenCaptions)
{
    auto parsed = parseCaption("a person walks forward slowly, then turns left");
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[0].action, Action::Walk);
    EXPECT_EQ(parsed[1].action, Action::Turn);
    EXPECT_EQ(parsed[1].side, Side::Left);

    parsed = parseCaption("after throwing a punch with the right fist, the man does jumping jacks");
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[0].action, Action::Punch);
    EXPECT_EQ(parsed[0].side, Side::Right);
    EXPECT_EQ(parsed[1].action, Action::JumpingJacks);

    parsed = parseCaption("someone jumps twice");
    ASSERT_EQ(parsed.size(), 1u);
    EXPECT_EQ(parsed[0].action, Action::JumpInPlace);
    EXPECT_EQ(parsed[0].count, 2);

    parsed = parseCaption("a woman does two full spins, and finally stands on her left leg.");
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[0].action, Action::Spin);
    EXPECT_EQ(parsed[0].count, 2);
    EXPECT_EQ(parsed[1].action, Action::Balance);
    EXPECT_EQ(parsed[1].side, Side::Left);
}

// The expected count a caption may state for a segment, or -1 when any count is wrong.
int statedCount(const Segment &seg)
{
    if (seg.action == Action::Spin)
        return std::max(1, seg.params.angleDeg / 360);
    return seg.params.repetitions;
}

TEST(CorpusCaptions, EveryCaptionTagsAndParsesBackToItsClip)
{
    std::map<Action, int> reached;
    for (int index = 0; index < 600; ++index) {
        const ComposedClip clip = composeClip(1234, index);
        const ClipPlan &plan = clip.plan;
        ASSERT_GE(plan.captions.size(), 3u);
        ASSERT_FALSE(plan.segments.empty());
        for (const std::string &caption : plan.captions) {
            SCOPED_TRACE(caption);
            ASSERT_NO_THROW(humanml3dTextLine(caption));
            const auto parsed = parseCaption(caption);
            ASSERT_EQ(parsed.size(), plan.segments.size());
            for (std::size_t i = 0; i < parsed.size(); ++i) {
                const Segment &seg = plan.segments[i];
                EXPECT_EQ(parsed[i].action, seg.action);
                if (parsed[i].side && seg.action != Action::Stretch)
                    EXPECT_EQ(*parsed[i].side, seg.params.side);
                if (parsed[i].count)
                    EXPECT_EQ(*parsed[i].count, statedCount(seg));
                if (parsed[i].action == seg.action)
                    ++reached[seg.action];
            }
        }
    }
    for (int a = 0; a < kNumActions; ++a)
        EXPECT_GT(reached[Action(a)], 0) << actionName(Action(a)) << " never reached";
}

TEST(CorpusComposer, ClipsChainPosturesAndFitTheLengthRange)
{
    for (int index = 0; index < 300; ++index) {
        const ComposedClip clip = composeClip(99, index);
        const ClipPlan &plan = clip.plan;
        EXPECT_GE(plan.numFrames, 41);
        EXPECT_LE(plan.numFrames, 197);
        EXPECT_EQ(clip.track.numFrames, plan.numFrames);
        ASSERT_GE(plan.segments.size(), 1u);
        ASSERT_LE(plan.segments.size(), 3u);
        for (std::size_t i = 1; i < plan.segments.size(); ++i) {
            EXPECT_EQ(actionInfo(plan.segments[i - 1].action).end,
                      actionInfo(plan.segments[i].action).start);
            EXPECT_LT(plan.segments[i - 1].endFrame, plan.segments[i].startFrame);
        }
        EXPECT_EQ(clip.transitions.size(), plan.segments.size() - 1);
        EXPECT_LE(plan.segments.back().endFrame, plan.numFrames);
        PoseTrack copy = clip.track;
        EXPECT_EQ(clampToLimits(copy), 0);
    }
}

TEST(CorpusComposer, SameSeedAndIndexGiveTheSameClip)
{
    const ComposedClip a = composeClip(5, 17), b = composeClip(5, 17), c = composeClip(5, 18);
    EXPECT_EQ(a.plan.captions, b.plan.captions);
    ASSERT_EQ(a.track.numFrames, b.track.numFrames);
    for (int t = 0; t < a.track.numFrames; ++t)
        for (int j = 0; j < kNumJoints; ++j)
            EXPECT_EQ(a.track.at(t, j).x, b.track.at(t, j).x);
    EXPECT_NE(a.plan.captions, c.plan.captions);
}
