#include "ml/data/corpus/composer.h"

#include "ml/data/corpus/actions.h"
#include "ml/data/corpus/caption_grammar.h"
#include "ml/data/corpus/rng.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mp::corpus {
namespace {

// Separate streams per purpose: changing how captions are drawn never changes the motions.
constexpr std::uint64_t kMotionStream = 0x6d6f74696f6eull; // "motion"
constexpr std::uint64_t kCaptionStream = 0x63617074ull;    // "capt"

BodyShape sampleBody(ClipRng &rng)
{
    const auto around = [&](double sd, double lo, double hi) {
        return static_cast<float>(std::clamp(rng.normal(1.0, sd), lo, hi));
    };
    BodyShape body;
    // Adult statures of roughly 1.5 to 1.9 m around SMPL's 1.7 m, and small differences in
    // proportions between people.
    body.heightScale = around(0.05, 0.88, 1.12);
    body.legScale = around(0.025, 0.94, 1.06);
    body.armScale = around(0.025, 0.94, 1.06);
    body.torsoScale = around(0.025, 0.94, 1.06);
    return body;
}

// The actions that may follow `after` (all of them when nothing came before).
std::vector<Action> candidates(std::optional<Posture> after)
{
    std::vector<Action> out;
    for (int a = 0; a < kNumActions; ++a) {
        const ActionInfo &info = actionInfo(Action(a));
        if (after ? info.start == *after
                  : info.start == Posture::Standing || info.action == Action::StandUp)
            out.push_back(info.action);
    }
    return out;
}

std::vector<Segment> planSegments(ClipRng &rng, const ComposeOptions &options,
                                  std::optional<Action> only)
{
    if (only) {
        Segment seg;
        seg.action = *only;
        seg.params = sampleParams(seg.action, rng);
        return {seg};
    }
    const int wanted = 1 + static_cast<int>(rng.weighted({0.35, 0.4, 0.25}));
    std::vector<Segment> segments;
    std::optional<Posture> posture;
    while (static_cast<int>(segments.size()) < std::min(wanted, options.maxActions)) {
        std::vector<Action> next = candidates(posture);
        if (next.empty())
            break; // kneeling ends a clip
        Segment seg;
        seg.action = rng.pick(next);
        // Sitting down is rarely the first of several; standing up needs a seat first.
        seg.params = sampleParams(seg.action, rng);
        segments.push_back(seg);
        posture = actionInfo(seg.action).end;
    }
    return segments;
}

ComposedClip compose(std::uint64_t seed, int index, const ComposeOptions &options,
                     std::optional<Action> only)
{
    ClipRng rng(seed ^ kMotionStream, static_cast<std::uint64_t>(index));
    ComposedClip clip;
    clip.plan.index = index;
    clip.plan.body = sampleBody(rng);
    std::vector<Segment> segments = planSegments(rng, options, only);

    std::vector<PoseTrack> tracks;
    std::vector<int> transitionFrames;
    const auto totalFrames = [&] {
        int n = 0;
        for (const PoseTrack &t : tracks)
            n += t.numFrames;
        for (int f : transitionFrames)
            n += f;
        return n;
    };
    for (const Segment &seg : segments) {
        tracks.push_back(generateAction(seg, rng));
        if (tracks.size() > 1)
            transitionFrames.push_back(static_cast<int>(
                std::lround(rng.uniform(options.transitionMinS, options.transitionMaxS) * kFps)));
    }
    // Too long: drop trailing actions, then shorten the remaining one by repetitions.
    while (totalFrames() > options.maxFrames && tracks.size() > 1) {
        tracks.pop_back();
        segments.pop_back();
        transitionFrames.pop_back();
    }
    while (totalFrames() > options.maxFrames) {
        Segment &seg = segments.front();
        if (seg.params.repetitions > 1)
            --seg.params.repetitions;
        else if (seg.params.speed == Speed::Slow)
            seg.params.speed = Speed::Normal;
        else if (seg.params.angleDeg > 360)
            seg.params.angleDeg = 360;
        else
            break;
        tracks.front() = generateAction(seg, rng);
    }
    if (totalFrames() > options.maxFrames)
        tracks.front().resize(options.maxFrames);

    PoseTrack &track = clip.track;
    for (std::size_t i = 0; i < tracks.size(); ++i) {
        if (i > 0) {
            // Transition frames: the kinematics stage replaces their rotations by a slerp
            // between the frames either side; here they hold the previous pose.
            const int n = transitionFrames[i - 1];
            PoseTrack hold(n);
            const Pose last = poseAt(track, track.numFrames - 1);
            for (int t = 0; t < n; ++t)
                setPose(hold, t, last);
            clip.transitions.push_back({track.numFrames, track.numFrames + n});
            track.append(hold);
        }
        segments[i].startFrame = track.numFrames;
        track.append(tracks[i]);
        segments[i].endFrame = track.numFrames;
    }
    if (track.numFrames < options.minFrames) {
        // Too short: stay in the final posture a little longer (idle frames, no action).
        track.resize(options.minFrames);
    }
    clampToLimits(track);
    clip.plan.numFrames = track.numFrames;
    clip.plan.segments = segments;
    ClipRng captionRng(seed ^ kCaptionStream, static_cast<std::uint64_t>(index));
    clip.plan.captions = makeCaptions(segments, captionRng);
    return clip;
}

} // namespace

ComposedClip composeClip(std::uint64_t seed, int index, const ComposeOptions &options)
{
    return compose(seed, index, options, std::nullopt);
}

ComposedClip composeAction(std::uint64_t seed, int index, Action action,
                           const ComposeOptions &options)
{
    return compose(seed, index, options, action);
}

} // namespace mp::corpus
