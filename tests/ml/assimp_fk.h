#pragma once
// Test helper: imports a file with Assimp and evaluates global joint positions per frame by
// forward kinematics from the aiNodeAnim keys, independently of the app's own readers.

#include <assimp/Importer.hpp>
#include <assimp/config.h>
#include <assimp/scene.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mp::test {

struct ImportedAnimation {
    double ticksPerSecond = 0;
    double duration = 0;
    int numChannels = 0;
    // Global position of a named node at a time in seconds, from the keys at that time
    // (throws when a channel has no key there: the key times themselves are under test).
    std::map<std::string, std::vector<std::array<double, 3>>> positions; // per frame
};

inline const aiNodeAnim *findChannel(const aiAnimation *animation, const aiString &name)
{
    for (unsigned c = 0; c < animation->mNumChannels; ++c)
        if (animation->mChannels[c]->mNodeName == name)
            return animation->mChannels[c];
    return nullptr;
}

template <typename Key>
const Key &keyAt(const Key *keys, unsigned count, double seconds, double ticksPerSecond,
                 const std::string &what)
{
    // The nearest key: Assimp's FBX importer adds keys between frames where a rotation turns
    // far, so only a key within a tiny fraction of a frame counts.
    if (count == 1) // a constant channel (Assimp's BVH loader on joints without positions)
        return keys[0];
    unsigned best = count;
    for (unsigned k = 0; k < count; ++k)
        if (best == count || std::abs(keys[k].mTime / ticksPerSecond - seconds) <
                                 std::abs(keys[best].mTime / ticksPerSecond - seconds))
            best = k;
    if (best < count && std::abs(keys[best].mTime / ticksPerSecond - seconds) < 1e-5)
        return keys[best];
    throw std::runtime_error("no key of " + what + " at t=" + std::to_string(seconds) + " s (" +
                             std::to_string(count) + " keys, last at " +
                             (count ? std::to_string(keys[count - 1].mTime) : std::string("-")) +
                             " ticks)");
}

inline void walk(const aiNode *node, const aiMatrix4x4 &parentGlobal, const aiAnimation *animation,
                 double seconds, std::map<std::string, aiMatrix4x4> &globals)
{
    aiMatrix4x4 local = node->mTransformation;
    if (const aiNodeAnim *channel = animation ? findChannel(animation, node->mName) : nullptr) {
        const std::string name = node->mName.C_Str();
        const auto &p = keyAt(channel->mPositionKeys, channel->mNumPositionKeys, seconds,
                              animation->mTicksPerSecond, name + " position");
        const auto &r = keyAt(channel->mRotationKeys, channel->mNumRotationKeys, seconds,
                              animation->mTicksPerSecond, name + " rotation");
        local = aiMatrix4x4(aiVector3D(1, 1, 1), r.mValue, p.mValue);
    }
    const aiMatrix4x4 global = parentGlobal * local;
    globals[node->mName.C_Str()] = global;
    for (unsigned c = 0; c < node->mNumChildren; ++c)
        walk(node->mChildren[c], global, animation, seconds, globals);
}

// Positions of the named nodes at frames 0..numFrames-1 of fps.
inline ImportedAnimation importWithAssimp(const std::string &path,
                                          const std::vector<std::string> &names, int numFrames,
                                          double fps)
{
    Assimp::Importer importer;
    importer.SetPropertyBool(AI_CONFIG_IMPORT_FBX_PRESERVE_PIVOTS, false);
    const aiScene *scene = importer.ReadFile(path, 0);
    if (!scene)
        throw std::runtime_error("Assimp import of " + path +
                                 " failed: " + importer.GetErrorString());
    ImportedAnimation out;
    const aiAnimation *animation = scene->mNumAnimations ? scene->mAnimations[0] : nullptr;
    if (animation) {
        out.ticksPerSecond = animation->mTicksPerSecond;
        out.duration = animation->mDuration;
        out.numChannels = static_cast<int>(animation->mNumChannels);
    }
    for (int f = 0; f < numFrames; ++f) {
        std::map<std::string, aiMatrix4x4> globals;
        walk(scene->mRootNode, aiMatrix4x4(), animation, f / fps, globals);
        for (const std::string &name : names) {
            const auto it = globals.find(name);
            if (it == globals.end())
                throw std::runtime_error("node " + name + " missing after import of " + path);
            out.positions[name].push_back({it->second.a4, it->second.b4, it->second.c4});
        }
    }
    return out;
}

} // namespace mp::test
