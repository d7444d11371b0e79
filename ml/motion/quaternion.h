#pragma once
// Quaternion math on tensors shaped (..., 4) in (w, x, y, z) order, broadcasting over the leading
// dimensions, so that a whole clip (T, J, 4) is one call. Rotations act on column vectors:
// rotate(q, v) = q v q^-1; multiply(a, b) applies b first, then a.

#include <ATen/core/Tensor.h>

namespace mp::quat {

at::Tensor identity(at::IntArrayRef leadingShape, const at::TensorOptions &options);
at::Tensor multiply(const at::Tensor &a, const at::Tensor &b);
at::Tensor conjugate(const at::Tensor &q);
// conjugate / |q|^2: the true inverse, also for quaternions that are not unit length.
at::Tensor inverse(const at::Tensor &q);
at::Tensor normalize(const at::Tensor &q);
// Flips sign so that w >= 0 (q and -q are the same rotation).
at::Tensor positiveW(const at::Tensor &q);
// Makes a sequence (T, ..., 4) continuous along dim 0 by flipping signs where consecutive
// quaternions have a negative dot product.
at::Tensor makeContinuous(const at::Tensor &q);

// Rotates vectors (..., 3) by unit quaternions (..., 4).
at::Tensor rotate(const at::Tensor &q, const at::Tensor &v);

// Axis (..., 3), any length but not zero; angle (...) in radians.
at::Tensor fromAxisAngle(const at::Tensor &axis, const at::Tensor &angle);
// Rotation about +Y by angle (...) in radians: (cos a/2, 0, sin a/2, 0).
at::Tensor fromYaw(const at::Tensor &angle);
// The shortest-arc unit quaternion taking direction v0 to direction v1 (..., 3). Opposite
// vectors give a half turn about an axis perpendicular to v0.
at::Tensor between(const at::Tensor &v0, const at::Tensor &v1);

// Unit quaternions (..., 4) <-> rotation matrices (..., 3, 3).
at::Tensor toMatrix(const at::Tensor &q);
at::Tensor fromMatrix(const at::Tensor &m);

// Continuous 6D representation (Zhou et al. 2019) as HumanML3D stores it: the first two columns
// of the rotation matrix, concatenated (..., 6).
at::Tensor matrixToCont6d(const at::Tensor &m);
at::Tensor cont6dToMatrix(const at::Tensor &d6);
at::Tensor toCont6d(const at::Tensor &q);
at::Tensor fromCont6d(const at::Tensor &d6);

} // namespace mp::quat
