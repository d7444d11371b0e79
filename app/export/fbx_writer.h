#pragma once
// FBX export of a BvhMotion (the BVH writer's IK output or any imported BVH) through Assimp, set
// up so that Blender, Maya, Unity and Unreal read a playing skeleton:
//  - every joint is a node named by an aiBone of a tiny skinned mesh (one small triangle per
//    joint, mOffsetMatrix = inverse global bind), so that every joint becomes an FBX LimbNode;
//  - the skeleton hangs under a plain "Armature" node, so the root joint stays a bone and keeps
//    the root motion (otherwise it becomes the armature object and the motion is lost);
//  - one animation with a translation and a rotation key per joint and frame;
//  - Assimp-version workarounds, checked at run time (assimpFbxQuirks): 5.2-5.3 read key times
//    as seconds (ticks per second 1), write centimetres unless UnitScaleFactor says otherwise,
//    and 5.2 omits the nested-list null records of binary files (repaired after export).

#include <filesystem>
#include <string>

namespace mp {

struct BvhMotion;

enum class FbxFormat {
    Binary, // "fbx": what Blender and the SDK-based tools import
    Ascii,  // "fbxa": what Assimp itself re-imports with its animation (5.2.5)
};

struct FbxWriteOptions {
    FbxFormat format = FbxFormat::Binary;
    // Metres per unit of the motion's offsets and positions; 0 = the motion's own
    // metresPerUnit, or the guess from its size when that is unknown too.
    double metresPerUnit = 0.0;
    std::string takeName = "motion";
};

// How the linked Assimp writes FBX, from aiGetVersionMajor/Minor/Patch at run time.
struct AssimpFbxQuirks {
    bool keyTimesInSeconds = false;  // 5.2-5.3: mTime is read as seconds whatever the tps
    bool keyTimesTruncated = false;  // 5.4-6.0.2: keys truncated to whole seconds (unusable)
    bool missingNullRecords = false; // < 5.3: binary files lack nested-list sentinels (#4686)
    std::string version;
};
AssimpFbxQuirks assimpFbxQuirks();

// Writes the file; InputError naming the path for an empty skeleton or when Assimp fails.
void writeFbx(const std::filesystem::path &path, const BvhMotion &motion,
              const FbxWriteOptions &options = {});

} // namespace mp
