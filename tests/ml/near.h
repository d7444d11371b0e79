#pragma once
// Closeness for the spec's test vectors (preference-learning.md §6): |actual - expected| within
// rtol·|expected| + atol, a tensor element by element with the element's index in the message;
// and the largest element-wise difference of two tensors.

#include <gtest/gtest.h>

#include <ATen/core/Tensor.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

namespace mp::test {

inline void expectNear(double actual, double expected, double rtol, double atol,
                       const std::string &what)
{
    EXPECT_NEAR(actual, expected, rtol * std::abs(expected) + atol) << what;
}

inline void expectTensorNear(const at::Tensor &actual, const std::vector<double> &expected,
                             double rtol, double atol, const std::string &what)
{
    const at::Tensor a = actual.detach().to(torch::kDouble).reshape(-1).contiguous();
    ASSERT_EQ(a.numel(), static_cast<std::int64_t>(expected.size())) << what;
    for (size_t i = 0; i < expected.size(); ++i)
        expectNear(a[static_cast<std::int64_t>(i)].item<double>(), expected[i], rtol, atol,
                   what + "[" + std::to_string(i) + "]");
}

// The largest |a - b| over the elements, as a double.
inline double maxDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a - b).abs().max().item<double>();
}

} // namespace mp::test
