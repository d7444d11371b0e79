#pragma once
// The vocabulary of the procedural corpus: actions, their parameters, and a clip's plan (which
// actions, with which parameters, over which frames). Plain data, no torch: the caption grammar,
// the manifest and the simulated labeler all speak it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mp::corpus {

enum class Action : std::uint8_t {
    // locomotion
    Walk,
    Jog,
    Run,
    WalkBackward,
    Sidestep,
    WalkCircle,
    Turn,
    Spin,
    // jumps
    JumpInPlace,
    JumpForward,
    Hop,
    JumpingJacks,
    // lower body and posture
    Squat,
    SitDown,
    StandUp,
    Kneel,
    Crouch,
    Kick,
    Balance,
    Bow,
    // upper body
    Wave,
    Clap,
    Punch,
    RaiseArms,
    Stretch,
    Throw,
    DanceSway,
};
inline constexpr int kNumActions = static_cast<int>(Action::DanceSway) + 1;

enum class Family : std::uint8_t { Locomotion, Jump, LowerBody, UpperBody };

// Which body side an action uses or goes towards: the hand that waves, the leg that kicks or
// stands, the direction of a turn or sidestep. Both = both hands (wave, raise) or alternating.
enum class Side : std::uint8_t { None, Left, Right, Both };
enum class Speed : std::uint8_t { Slow, Normal, Fast };

// Where an action starts and ends: sequences only chain actions whose postures meet.
enum class Posture : std::uint8_t { Standing, Seated, Kneeling };

struct ActionParams {
    Speed speed = Speed::Normal;
    Side side = Side::None;
    int repetitions = 1;    // steps, jumps, waves, punches, squats...
    float amplitude = 1.0f; // 0.6 (small) .. 1.4 (big): step length, jump height, bow depth
    int angleDeg = 0;       // turn, spin and circle angle; a curving walk's total heading change
};

struct ActionInfo {
    Action action;
    std::string_view name; // snake_case, stable: the manifest's key
    Family family;
    Posture start;
    Posture end;
};

const ActionInfo &actionInfo(Action action);
std::string_view actionName(Action action);
std::optional<Action> actionFromName(std::string_view name);
std::string_view familyName(Family family);
std::string_view sideName(Side side);
std::string_view speedName(Speed speed);
std::optional<Side> sideFromName(std::string_view name);
std::optional<Speed> speedFromName(std::string_view name);

// One action of a clip, with its frames [startFrame, endFrame) in the clip.
struct Segment {
    Action action = Action::Walk;
    ActionParams params;
    int startFrame = 0;
    int endFrame = 0;
};

// Per-clip body proportions: bone lengths scaled around the SMPL neutral adult.
struct BodyShape {
    float heightScale = 1.0f; // whole body
    float legScale = 1.0f;    // hips, knees, ankles relative to the rest
    float armScale = 1.0f;    // shoulders, elbows, wrists
    float torsoScale = 1.0f;  // spine, neck
};

struct ClipPlan {
    int index = 0;
    int numFrames = 0;
    BodyShape body;
    std::vector<Segment> segments;
    std::vector<std::string> captions; // plain sentences; tagged when written
};

} // namespace mp::corpus
