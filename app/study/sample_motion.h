#pragma once
// The motion of a sample already in a study (imported, simulated or generated earlier), for
// showing a stored pair: the features stored in the study, else the .npy at featuresPath, else
// the VQ codes decoded by a model bundle (decoding is deterministic, so the codes reproduce the
// features exactly with the model that made them).

#include "app/study/study_types.h"
#include "ml/motion/motion_clip.h"

#include <string>

namespace at {
class Tensor;
}

namespace mp {

class ModelBundle;

// True when only the codes can give the motion: no stored features and no readable file.
bool sampleNeedsModel(const SampleInfo &sample);

// Features (T, 263) denormalised, or joints (T, 22, 3), whichever the sample holds: the stored
// .npy bytes, else the file at featuresPath, else the codes decoded by bundle (denormalised
// features). source, when given, receives where it came from (for error messages). InputError
// naming the sample as sampleMotion does. Include <ATen/core/Tensor.h> to call it.
at::Tensor sampleArray(const SampleInfo &sample, ModelBundle *bundle,
                       std::string *source = nullptr);

// Joints for the viewer at fps. Features (T, 263) are recovered with recover_from_ric; a
// (T, 22, 3) array is taken as joints. bundle may be null when the sample has features.
// Torch work: call it off the GUI thread, one call at a time per bundle. InputError naming the
// sample (and the file) when there is no usable motion.
MotionClip sampleMotion(const SampleInfo &sample, ModelBundle *bundle, double fps = 20.0);

} // namespace mp
