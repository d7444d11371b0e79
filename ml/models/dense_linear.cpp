#include "ml/models/dense_linear.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
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

// A 2-D float32 operand as sgemm reads it: row-major with a leading dimension, transposed or
// not. A transposed view (strides (1, s)) is read in place as the transpose of its storage; any
// other layout is copied.
struct GemmOperand {
    at::Tensor storage; // keeps a copy alive
    const float *data = nullptr;
    bool transposed = false;
    std::int64_t leading = 0;
    std::int64_t rows = 0; // of op(X)
    std::int64_t cols = 0;
};

GemmOperand gemmOperand(const at::Tensor &x, bool transpose)
{
    GemmOperand out;
    out.rows = transpose ? x.size(1) : x.size(0);
    out.cols = transpose ? x.size(0) : x.size(1);
    if (x.stride(1) == 1 && x.stride(0) >= std::max<std::int64_t>(1, x.size(1))) {
        out.storage = x;
        out.transposed = transpose;
        out.leading = x.stride(0);
    } else if (x.stride(0) == 1 && x.stride(1) >= std::max<std::int64_t>(1, x.size(0))) {
        out.storage = x;
        out.transposed = !transpose;
        out.leading = x.stride(1);
    } else {
        out.storage = x.contiguous();
        out.transposed = transpose;
        out.leading = x.size(1);
    }
    out.data = out.storage.data_ptr<float>();
    return out;
}

// Row-major C (M, N) = op(A) @ op(B) on float32 CPU matrices; `transposeA`/`transposeB` read A/B
// as their transposes.
at::Tensor oneDnnProduct(const at::Tensor &a, bool transposeA, const at::Tensor &b, bool transposeB)
{
    const auto left = gemmOperand(a, transposeA);
    const auto right = gemmOperand(b, transposeB);
    const auto m = left.rows;
    const auto k = left.cols;
    const auto n = right.cols;
    auto c = at::empty({m, n}, a.options());
    // oneDNN's OpenMP team has the calling thread's omp_get_max_threads(), which LibTorch's
    // at::set_num_threads sets (as mp::parallelFor reads it). Not at::init_num_threads(): in
    // LibTorch 1.13 that also rebuilds its pthreadpool, whose new threads spin (a two-thread DPO
    // step took 6.4 s instead of 1.4 s).
    const auto status = dnnl_sgemm(left.transposed ? 'T' : 'N', right.transposed ? 'T' : 'N', m, n,
                                   k, 1.0f, left.data, left.leading, right.data, right.leading,
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
        const auto &grad = grads[0];
        at::Tensor gradRows, gradWeight;
        if (context->needs_input_grad(0))
            gradRows = oneDnnProduct(grad, false, saved[1], false); // (R, out) @ (out, in)
        if (context->needs_input_grad(1))
            gradWeight = oneDnnProduct(grad, true, saved[0], false); // (out, R) @ (R, in)
        return {gradRows, gradWeight};
    }
};

// rows @ (W + scaling B A)^T with its gradients for rows, A and B (W frozen): the adapter folded
// into one (out, in) weight per call (out x r x in multiply-adds, against rows x out x in for the
// product), so the forward is one product and the rows' gradient another, where PEFT's unmerged
// form adds a rank-r product into each (a pass over the output and one over the gradient) and
// keeps a second gradient of the rows to sum.
class LoraDenseLinearFunction : public torch::autograd::Function<LoraDenseLinearFunction> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext *context, const at::Tensor &rows,
                              const at::Tensor &weight, const at::Tensor &loraA,
                              const at::Tensor &loraB, double scaling)
    {
        const auto merged = at::addmm(weight, loraB, loraA, 1.0, scaling);
        context->save_for_backward({rows, merged, loraA, loraB});
        context->saved_data["scaling"] = scaling;
        return oneDnnProduct(rows, false, merged, true);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *context,
                                                   torch::autograd::variable_list grads)
    {
        const auto saved = context->get_saved_variables();
        const auto &rows = saved[0];
        const auto &merged = saved[1];
        const auto &loraA = saved[2];
        const auto &loraB = saved[3];
        const double scaling = context->saved_data["scaling"].toDouble();
        const auto &grad = grads[0];
        at::Tensor gradRows, gradA, gradB;
        if (context->needs_input_grad(0))
            gradRows = oneDnnProduct(grad, false, merged, false); // (R, out) @ (out, in)
        if (context->needs_input_grad(2)) // scaling (grad @ B)^T @ rows: (r, in)
            gradA = at::mm(at::mm(grad, loraB).t(), rows).mul_(scaling);
        if (context->needs_input_grad(3)) // scaling grad^T @ (rows @ A^T): (out, r)
            gradB = at::mm(grad.t(), at::mm(rows, loraA.t())).mul_(scaling);
        return {gradRows, at::Tensor(), gradA, gradB, at::Tensor()};
    }
};

// MP_ONEDNN=0 keeps every product LibTorch's: an A/B of the two, or a way round a CPU that
// oneDNN's JIT mishandles.
bool oneDnnEnabled()
{
    static const bool enabled = [] {
        const char *value = std::getenv("MP_ONEDNN");
        return !value || std::strcmp(value, "0") != 0;
    }();
    return enabled;
}

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

int trainingBlasThreads(int threads)
{
#ifdef MP_HAVE_ONEDNN
    if (oneDnnEnabled())
        return 1;
#endif
    return threads;
}

bool denseLinearUsesOneDnn(const at::Tensor &rows, const at::Tensor &weight)
{
#ifdef MP_HAVE_ONEDNN
    return oneDnnEnabled() && rows.dim() == 2 && weight.dim() == 2 && rows.device().is_cpu() &&
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
        if (!at::GradMode::is_enabled() || (!rows.requires_grad() && !weight.requires_grad()))
            return oneDnnProduct(rows, false, weight, true);
        return DenseLinearFunction::apply(rows, weight);
    }
#endif
    return at::mm(rows, weight.t());
}

at::Tensor loraDenseLinear(const at::Tensor &rows, const at::Tensor &weight,
                           const at::Tensor &loraA, const at::Tensor &loraB, double scaling)
{
#ifdef MP_HAVE_ONEDNN
    if (denseLinearUsesOneDnn(rows, weight) && !weight.requires_grad()) {
        if (!at::GradMode::is_enabled() ||
            (!rows.requires_grad() && !loraA.requires_grad() && !loraB.requires_grad()))
            return oneDnnProduct(rows, false, at::addmm(weight, loraB, loraA, 1.0, scaling), true);
        return LoraDenseLinearFunction::apply(rows, weight, loraA, loraB, scaling);
    }
#endif
    return at::addmm(at::mm(rows, weight.t()), at::mm(rows, loraA.t()), loraB.t(), 1.0, scaling);
}

} // namespace mp
