// BVH (app/export/bvh_reader): the hierarchy, the motion section and forward kinematics.
#include "app/export/bvh_motion.h"
#include "app/export/bvh_reader.h"
#include "ml/motion/motion_clip.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        const auto motion = mp::parseBvh(mp::fuzz::text(data, size), "fuzz.bvh");
        mp::bvhToMotionClip(motion, mp::BvhToClipOptions{.includeEndSites = true});
    });
}
