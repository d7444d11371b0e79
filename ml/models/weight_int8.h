#pragma once
// Weight-only int8: a float weight (out, in) kept as int8 rows with one float scale per output
// row (symmetric, scale = max|w_j| / 127, values rounded to nearest), and the few-rows product
// x @ W^T that reads those rows and accumulates in float32. Activations stay float32; only the
// weight's bytes shrink (4x), which is what a decoding step over a large model waits for (each
// step reads every decoder weight and the LM head once).
// The product equals fewRowsProduct over the dequantised weight (scale * q) up to float rounding:
// each row's sum runs over x * q and is multiplied by the row's scale at the end.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace mp {

struct Int8Rows {
    std::int64_t outFeatures = 0;
    std::int64_t inFeatures = 0;
    std::vector<std::int8_t> values; // (outFeatures, inFeatures), row-major
    std::vector<float> scales;       // (outFeatures): row j is scales[j] * values[j, :]
};

// weight (out, in), float32 on the CPU (any strides). A row of zeros gets scale 0.
Int8Rows quantizeRows(const at::Tensor &weight);

// (out, in) float32: scales[j] * values[j][k].
at::Tensor dequantizeRows(const Int8Rows &weight);

// y[r][j] = scales[j] * sum_k x[r][k] * q[j][k] (+ bias[j]) for r < count, j < outFeatures, k <
// inFeatures; row r of x starts at x + r * xStride, row r of y at y + r * yStride. Up to four rows
// read the int8 rows directly; 5 to kFewRowsProductMaxRows rows dequantise the weight a tile at a
// time (a tile stays in the L2 cache) and run the float few-rows product over it; more rows
// dequantise a block at a time into a GEMM. Any row count works.
void int8RowsProduct(const float *x, std::int64_t xStride, std::int64_t count,
                     const Int8Rows &weight, const float *bias, float *y, std::int64_t yStride);

// input (..., in) float32 on the CPU, bias (out) or undefined; returns (..., out).
at::Tensor int8Linear(const at::Tensor &input, const Int8Rows &weight, const at::Tensor &bias);

} // namespace mp
