#pragma once
// A motion as global joint positions, in plain C++ (no torch), for the viewer, the exporters and
// the UI: numFrames x numJoints x 3 floats, metres, Y up, row-major [frame][joint][xyz].
// Works for SMPL-22 and for any imported BVH skeleton (parents describe the hierarchy).

#include <array>
#include <string>
#include <vector>

namespace mp {

enum class BodySide { Center, Left, Right };

struct MotionClip {
    std::vector<float> positions; // numFrames * numJoints * 3
    int numFrames = 0;
    int numJoints = 0;
    std::vector<int> parents;        // -1 for the root
    std::vector<BodySide> sides;     // for colouring left and right differently
    std::vector<std::string> jointNames;
    double fps = 20.0;

    std::array<float, 3> position(int frame, int joint) const
    {
        const std::size_t at = (static_cast<std::size_t>(frame) * numJoints + joint) * 3;
        return {positions[at], positions[at + 1], positions[at + 2]};
    }
    double durationS() const { return fps > 0 ? numFrames / fps : 0.0; }
    bool empty() const { return numFrames == 0 || numJoints == 0; }
};

} // namespace mp
