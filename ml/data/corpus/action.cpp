#include "ml/data/corpus/action.h"

#include <array>
#include <stdexcept>

namespace mp::corpus {
namespace {

using enum Action;
using P = Posture;

// Every action in enum order; the test checks the order matches.
constexpr std::array<ActionInfo, kNumActions> kActions{{
    {Walk, "walk", Family::Locomotion, P::Standing, P::Standing},
    {Jog, "jog", Family::Locomotion, P::Standing, P::Standing},
    {Run, "run", Family::Locomotion, P::Standing, P::Standing},
    {WalkBackward, "walk_backward", Family::Locomotion, P::Standing, P::Standing},
    {Sidestep, "sidestep", Family::Locomotion, P::Standing, P::Standing},
    {WalkCircle, "walk_circle", Family::Locomotion, P::Standing, P::Standing},
    {Turn, "turn", Family::Locomotion, P::Standing, P::Standing},
    {Spin, "spin", Family::Locomotion, P::Standing, P::Standing},
    {JumpInPlace, "jump_in_place", Family::Jump, P::Standing, P::Standing},
    {JumpForward, "jump_forward", Family::Jump, P::Standing, P::Standing},
    {Hop, "hop", Family::Jump, P::Standing, P::Standing},
    {JumpingJacks, "jumping_jacks", Family::Jump, P::Standing, P::Standing},
    {Squat, "squat", Family::LowerBody, P::Standing, P::Standing},
    {SitDown, "sit_down", Family::LowerBody, P::Standing, P::Seated},
    {StandUp, "stand_up", Family::LowerBody, P::Seated, P::Standing},
    {Kneel, "kneel", Family::LowerBody, P::Standing, P::Kneeling},
    {Crouch, "crouch", Family::LowerBody, P::Standing, P::Standing},
    {Kick, "kick", Family::LowerBody, P::Standing, P::Standing},
    {Balance, "balance", Family::LowerBody, P::Standing, P::Standing},
    {Bow, "bow", Family::LowerBody, P::Standing, P::Standing},
    {Wave, "wave", Family::UpperBody, P::Standing, P::Standing},
    {Clap, "clap", Family::UpperBody, P::Standing, P::Standing},
    {Punch, "punch", Family::UpperBody, P::Standing, P::Standing},
    {RaiseArms, "raise_arms", Family::UpperBody, P::Standing, P::Standing},
    {Stretch, "stretch", Family::UpperBody, P::Standing, P::Standing},
    {Throw, "throw", Family::UpperBody, P::Standing, P::Standing},
    {DanceSway, "dance_sway", Family::UpperBody, P::Standing, P::Standing},
}};

} // namespace

const ActionInfo &actionInfo(Action action)
{
    const auto index = static_cast<std::size_t>(action);
    if (index >= kActions.size())
        throw std::runtime_error("actionInfo: action out of range");
    return kActions[index];
}

std::string_view actionName(Action action)
{
    return actionInfo(action).name;
}

std::optional<Action> actionFromName(std::string_view name)
{
    for (const auto &info : kActions)
        if (info.name == name)
            return info.action;
    return std::nullopt;
}

std::string_view familyName(Family family)
{
    switch (family) {
    case Family::Locomotion:
        return "locomotion";
    case Family::Jump:
        return "jump";
    case Family::LowerBody:
        return "lower_body";
    case Family::UpperBody:
        return "upper_body";
    }
    return "?";
}

std::string_view sideName(Side side)
{
    switch (side) {
    case Side::None:
        return "none";
    case Side::Left:
        return "left";
    case Side::Right:
        return "right";
    case Side::Both:
        return "both";
    }
    return "?";
}

std::string_view speedName(Speed speed)
{
    switch (speed) {
    case Speed::Slow:
        return "slow";
    case Speed::Normal:
        return "normal";
    case Speed::Fast:
        return "fast";
    }
    return "?";
}

std::optional<Side> sideFromName(std::string_view name)
{
    for (Side side : {Side::None, Side::Left, Side::Right, Side::Both})
        if (sideName(side) == name)
            return side;
    return std::nullopt;
}

std::optional<Speed> speedFromName(std::string_view name)
{
    for (Speed speed : {Speed::Slow, Speed::Normal, Speed::Fast})
        if (speedName(speed) == name)
            return speed;
    return std::nullopt;
}

} // namespace mp::corpus
