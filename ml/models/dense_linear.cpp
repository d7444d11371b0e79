#include "ml/models/dense_linear.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#ifdef MP_HAVE_ONEDNN
#include <dnnl.h>
#endif

namespace mp {

namespace {

#ifdef MP_HAVE_ONEDNN

// Row-major C (M, N) = op(A) @ op(B) on contiguous float32 tensors; `transposeA`/`transposeB`
// read A/B as their transposes.
at::Tensor oneDnnProduct(const at::Tensor &a, bool transposeA, const at::Tensor &b, bool transposeB)
{
    const auto m = transposeA ? a.size(1) : a.size(0);
    const auto k = transposeA ? a.size(0) : a.size(1);
    const auto n = transposeB ? b.size(0) : b.size(1);
    auto c = at::empty({m, n}, a.options());
    // oneDNN's OpenMP team is the calling thread's: a training job's worker thread takes
    // LibTorch's thread count, as LibTorch's own kernels do.
    at::init_num_threads();
    const auto status = dnnl_sgemm(transposeA ? 'T' : 'N', transposeB ? 'T' : 'N', m, n, k, 1.0f,
                                   a.data_ptr<float>(), a.size(1), b.data_ptr<float>(), b.size(1),
                                   0.0f, c.data_ptr<float>(), n);
    if (status != dnnl_success)
        throw std::runtime_error("oneDNN sgemm failed (status " + std::to_string(status) +
                                 ") on a " + std::to_string(m) + "x" + std::to_string(k) + " by " +
                                 std::to_string(k) + "x" + std::to_string(n) + " product");
    return c;
}

class DenseLinearFunction : public torch::autograd::Function<DenseLinearFunction> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext *context, const at::Tensor &rows,
                              const at::Tensor &weight)
    {
        context->save_for_backward({rows, weight});
        return oneDnnProduct(rows, false, weight, true);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *context,
                                                   torch::autograd::variable_list grads)
    {
        const auto saved = context->get_saved_variables();
        const auto grad = grads[0].contiguous();
        at::Tensor gradRows, gradWeight;
        if (context->needs_input_grad(0))
            gradRows = oneDnnProduct(grad, false, saved[1], false); // (R, out) @ (out, in)
        if (context->needs_input_grad(1))
            gradWeight = oneDnnProduct(grad, true, saved[0], false); // (out, R) @ (R, in)
        return {gradRows, gradWeight};
    }
};

#endif

} // namespace

bool denseLinearHasOneDnn()
{
#ifdef MP_HAVE_ONEDNN
    return true;
#else
    return false;
#endif
}

bool denseLinearUsesOneDnn(const at::Tensor &rows, const at::Tensor &weight)
{
#ifdef MP_HAVE_ONEDNN
    // MP_ONEDNN=0 keeps every product LibTorch's: an A/B of the two, or a way round a CPU that
    // oneDNN's JIT mishandles.
    static const bool enabled = [] {
        const char *value = std::getenv("MP_ONEDNN");
        return !value || std::strcmp(value, "0") != 0;
    }();
    return enabled && rows.dim() == 2 && weight.dim() == 2 && rows.device().is_cpu() &&
           weight.device().is_cpu() && rows.scalar_type() == at::kFloat &&
           weight.scalar_type() == at::kFloat && rows.size(1) == weight.size(1) &&
           rows.size(0) >= kDenseLinearMinSize && rows.size(1) >= kDenseLinearMinSize &&
           weight.size(0) >= kDenseLinearMinSize;
#else
    (void)rows;
    (void)weight;
    return false;
#endif
}

at::Tensor denseLinear(const at::Tensor &rows, const at::Tensor &weight)
{
#ifdef MP_HAVE_ONEDNN
    if (denseLinearUsesOneDnn(rows, weight)) {
        const auto contiguousRows = rows.contiguous();
        const auto contiguousWeight = weight.contiguous();
        if (!at::GradMode::is_enabled() ||
            (!contiguousRows.requires_grad() && !contiguousWeight.requires_grad()))
            return oneDnnProduct(contiguousRows, false, contiguousWeight, true);
        return DenseLinearFunction::apply(contiguousRows, contiguousWeight);
    }
#endif
    return at::mm(rows, weight.t());
}

} // namespace mp
