#include "app/export/fbx_writer.h"

#include "app/export/bvh_motion.h"
#include "app/export/fbx_binary_fix.h"
#include "app/export/save_file.h"
#include "ml/core/error.h"

#include <assimp/Exporter.hpp>
#include <assimp/material.h>
#include <assimp/scene.h>
#include <assimp/version.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <unistd.h>

namespace mp {

namespace {

// Half the edge of the proxy triangle bound to each bone: visible in a DCC, negligible in size.
constexpr double kProxySizeM = 0.01;

// FBX TimeMode enum values for the standard rates; anything else is eCustom + CustomFrameRate.
int fbxTimeMode(double fps)
{
    static const std::map<int, int> kModes = {{120, 1}, {100, 2}, {60, 3},  {50, 4},  {48, 5},
                                              {30, 6},  {25, 10}, {24, 11}, {96, 15}, {72, 16}};
    const double rounded = std::round(fps);
    if (std::abs(fps - rounded) < 1e-6)
        if (const auto it = kModes.find(static_cast<int>(rounded)); it != kModes.end())
            return it->second;
    return 14;
}

aiMatrix4x4 translation(const Vec3 &t)
{
    aiMatrix4x4 m;
    m.a4 = static_cast<ai_real>(t[0]);
    m.b4 = static_cast<ai_real>(t[1]);
    m.c4 = static_cast<ai_real>(t[2]);
    return m;
}

// Unique, non-empty node names: FBX links bones, nodes and curves by name.
std::vector<std::string> uniqueNames(const BvhMotion &motion)
{
    std::vector<std::string> names;
    std::set<std::string> used = {"RootNode", "Armature", "SkinProxy"};
    for (const BvhJoint &joint : motion.joints) {
        std::string base = joint.name.empty() ? std::string("joint") : joint.name;
        std::string name = base;
        for (int k = 2; used.count(name); ++k)
            name = base + "_" + std::to_string(k);
        used.insert(name);
        names.push_back(name);
    }
    return names;
}

void attachChildren(aiNode *parent, const std::vector<aiNode *> &children)
{
    if (children.empty())
        return;
    parent->mNumChildren = static_cast<unsigned>(children.size());
    parent->mChildren = new aiNode *[children.size()];
    for (std::size_t i = 0; i < children.size(); ++i) {
        parent->mChildren[i] = children[i];
        children[i]->mParent = parent;
    }
}

// One small triangle per joint at its rest position, each bound by one bone with weight 1.
aiMesh *buildProxyMesh(const BvhMotion &motion, const std::vector<std::string> &names,
                       const std::vector<Vec3> &restGlobal, double size)
{
    const unsigned n = static_cast<unsigned>(motion.joints.size());
    auto *mesh = new aiMesh;
    mesh->mName = aiString("SkinProxy");
    mesh->mPrimitiveTypes = aiPrimitiveType_TRIANGLE;
    mesh->mMaterialIndex = 0;
    mesh->mNumVertices = 3 * n;
    mesh->mVertices = new aiVector3D[3 * n];
    mesh->mNumFaces = n;
    mesh->mFaces = new aiFace[n];
    mesh->mNumBones = n;
    mesh->mBones = new aiBone *[n];
    for (unsigned j = 0; j < n; ++j) {
        const Vec3 &p = restGlobal[j];
        const Vec3 corners[3] = {
            {p[0] + size, p[1], p[2]}, {p[0], p[1] + size, p[2]}, {p[0], p[1], p[2] + size}};
        aiFace &face = mesh->mFaces[j];
        face.mNumIndices = 3;
        face.mIndices = new unsigned[3];
        auto *bone = new aiBone;
        bone->mName = aiString(names[j]);
        bone->mNumWeights = 3;
        bone->mWeights = new aiVertexWeight[3];
        for (unsigned k = 0; k < 3; ++k) {
            const unsigned v = 3 * j + k;
            mesh->mVertices[v] =
                aiVector3D(static_cast<ai_real>(corners[k][0]), static_cast<ai_real>(corners[k][1]),
                           static_cast<ai_real>(corners[k][2]));
            face.mIndices[k] = v;
            bone->mWeights[k] = aiVertexWeight(v, 1.0f);
        }
        // Inverse of the joint's global bind transform (rest rotations are identity in BVH).
        bone->mOffsetMatrix = translation({-p[0], -p[1], -p[2]});
        mesh->mBones[j] = bone;
    }
    return mesh;
}

aiAnimation *buildAnimation(const BvhMotion &motion, const std::vector<std::string> &names,
                            const AssimpFbxQuirks &quirks, const std::string &takeName)
{
    const unsigned n = static_cast<unsigned>(motion.joints.size());
    const unsigned frames = static_cast<unsigned>(motion.numFrames);
    const double fps = motion.fps();
    auto *animation = new aiAnimation;
    animation->mName = aiString(takeName);
    if (quirks.keyTimesInSeconds) {
        // 5.2-5.3 convert mTime as seconds and the stack stop as int64(duration)/int64(tps).
        animation->mTicksPerSecond = 1.0;
        animation->mDuration = std::ceil((frames > 0 ? frames - 1 : 0) / fps);
    } else {
        animation->mTicksPerSecond = fps;
        animation->mDuration = frames > 0 ? frames - 1 : 0;
    }
    const double tickPerFrame = quirks.keyTimesInSeconds ? 1.0 / fps : 1.0;
    animation->mNumChannels = n;
    animation->mChannels = new aiNodeAnim *[n];
    for (unsigned j = 0; j < n; ++j) {
        auto *channel = new aiNodeAnim;
        animation->mChannels[j] = channel;
        channel->mNodeName = aiString(names[j]);
        channel->mNumPositionKeys = frames;
        channel->mPositionKeys = new aiVectorKey[frames];
        channel->mNumRotationKeys = frames;
        channel->mRotationKeys = new aiQuatKey[frames];
        channel->mNumScalingKeys = frames;
        channel->mScalingKeys = new aiVectorKey[frames];
        std::array<double, 4> previous{1, 0, 0, 0};
        for (unsigned f = 0; f < frames; ++f) {
            const double time = f * tickPerFrame;
            const Vec3 t = bvhLocalTranslation(motion, static_cast<int>(j), static_cast<int>(f));
            auto q = quaternionFromMatrix(
                bvhLocalRotation(motion, static_cast<int>(j), static_cast<int>(f)));
            // Keep consecutive quaternions in one hemisphere so interpolation takes the short way.
            if (q[0] * previous[0] + q[1] * previous[1] + q[2] * previous[2] + q[3] * previous[3] <
                0)
                for (double &c : q)
                    c = -c;
            previous = q;
            channel->mPositionKeys[f] =
                aiVectorKey(time, aiVector3D(static_cast<ai_real>(t[0]), static_cast<ai_real>(t[1]),
                                             static_cast<ai_real>(t[2])));
            channel->mRotationKeys[f] = aiQuatKey(
                time, aiQuaternion(static_cast<ai_real>(q[0]), static_cast<ai_real>(q[1]),
                                   static_cast<ai_real>(q[2]), static_cast<ai_real>(q[3])));
            channel->mScalingKeys[f] = aiVectorKey(time, aiVector3D(1, 1, 1));
        }
    }
    return animation;
}

std::unique_ptr<aiScene> buildScene(const BvhMotion &motion, double metresPerUnit,
                                    const AssimpFbxQuirks &quirks, const std::string &takeName)
{
    const int n = motion.numJoints();
    const std::vector<std::string> names = uniqueNames(motion);
    std::vector<Vec3> restGlobal(n);
    for (int j = 0; j < n; ++j) {
        const BvhJoint &joint = motion.joints[j];
        restGlobal[j] = joint.parent < 0 ? joint.offset : restGlobal[joint.parent] + joint.offset;
    }

    auto scene = std::make_unique<aiScene>();
    scene->mRootNode = new aiNode("RootNode");
    auto *armature = new aiNode("Armature");
    auto *skin = new aiNode("SkinProxy");
    skin->mNumMeshes = 1;
    skin->mMeshes = new unsigned[1]{0};
    attachChildren(scene->mRootNode, {armature, skin});

    std::vector<aiNode *> nodes(n);
    std::vector<std::vector<aiNode *>> children(n);
    std::vector<aiNode *> roots;
    for (int j = 0; j < n; ++j) {
        nodes[j] = new aiNode(names[j]);
        nodes[j]->mTransformation = translation(motion.joints[j].offset);
        const int parent = motion.joints[j].parent;
        (parent < 0 ? roots : children[parent]).push_back(nodes[j]);
    }
    for (int j = 0; j < n; ++j)
        attachChildren(nodes[j], children[j]);
    attachChildren(armature, roots);

    scene->mNumMeshes = 1;
    scene->mMeshes =
        new aiMesh *[1] { buildProxyMesh(motion, names, restGlobal, kProxySizeM / metresPerUnit) };
    scene->mNumMaterials = 1;
    scene->mMaterials = new aiMaterial *[1] { new aiMaterial };
    const aiString materialName("Skeleton");
    scene->mMaterials[0]->AddProperty(&materialName, AI_MATKEY_NAME);

    if (motion.numFrames > 0) {
        scene->mNumAnimations = 1;
        scene->mAnimations =
            new aiAnimation *[1] { buildAnimation(motion, names, quirks, takeName) };
    }

    // Global settings the FBX exporter reads from the scene metadata: centimetres per unit
    // (default 1 = cm; Blender would import metres at 1/100 scale) and the frame rate.
    const double fps = motion.fps();
    const int timeMode = fbxTimeMode(fps);
    scene->mMetaData = aiMetadata::Alloc(4);
    scene->mMetaData->Set(0, "UnitScaleFactor", 100.0 * metresPerUnit);
    scene->mMetaData->Set(1, "OriginalUnitScaleFactor", 100.0 * metresPerUnit);
    scene->mMetaData->Set(2, "TimeMode", static_cast<int32_t>(timeMode));
    scene->mMetaData->Set(3, "CustomFrameRate", timeMode == 14 ? fps : -1.0);
    return scene;
}

} // namespace

AssimpFbxQuirks assimpFbxQuirks()
{
    const unsigned major = aiGetVersionMajor(), minor = aiGetVersionMinor(),
                   patch = aiGetVersionPatch();
    const auto before = [&](unsigned ma, unsigned mi, unsigned pa) {
        return major != ma ? major < ma : minor != mi ? minor < mi : patch < pa;
    };
    AssimpFbxQuirks quirks;
    quirks.version =
        std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    quirks.missingNullRecords = before(5, 3, 0);                    // fixed by 2d372b302 (5.3.0)
    quirks.keyTimesInSeconds = before(5, 4, 0);                     // to_ktime(mTime) up to 5.3.x
    quirks.keyTimesTruncated = !before(5, 4, 0) && before(6, 0, 3); // 85f64c913 .. ad6e8e210
    return quirks;
}

void writeFbx(const std::filesystem::path &path, const BvhMotion &motion,
              const FbxWriteOptions &options)
{
    if (motion.joints.empty())
        throw InputError(path.string() + ": nothing to export (no joints)");
    if (motion.numFrames > 0 && !(motion.fps() > 0))
        throw InputError(path.string() + ": the motion has no frame rate");
    const AssimpFbxQuirks quirks = assimpFbxQuirks();
    if (quirks.keyTimesTruncated && motion.numFrames > 1)
        throw InputError(path.string() + ": Assimp " + quirks.version +
                         " writes FBX animation keys at whole seconds (assimp #6105, fixed in "
                         "6.0.3); export BVH instead");
    const double metresPerUnit = options.metresPerUnit > 0  ? options.metresPerUnit
                                 : motion.metresPerUnit > 0 ? motion.metresPerUnit
                                                            : guessBvhMetresPerUnit(motion);

    const std::unique_ptr<aiScene> scene =
        buildScene(motion, metresPerUnit, quirks, options.takeName);
    const bool binary = options.format == FbxFormat::Binary;
    // Assimp writes through its own IO to a temporary next to the target.
    const std::filesystem::path temporary =
        path.string() + ".assimp" + std::to_string(static_cast<long>(::getpid()));
    Assimp::Exporter exporter;
    const aiReturn result =
        exporter.Export(scene.get(), binary ? "fbx" : "fbxa", temporary.string());
    if (result != aiReturn_SUCCESS) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw InputError(path.string() + ": Assimp " + quirks.version +
                         " FBX export failed: " + exporter.GetErrorString());
    }
    std::string bytes = readWholeFile(temporary);
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    if (binary) {
        if (quirks.missingNullRecords)
            bytes = addFbxNullRecords(bytes);
        const FbxBinaryCheck check = checkFbxBinary(bytes);
        if (!check.valid)
            throw std::runtime_error(path.string() + ": Assimp " + quirks.version +
                                     " wrote a malformed binary FBX: " + check.problem);
    }
    saveFileAtomically(path, bytes);
}

} // namespace mp
