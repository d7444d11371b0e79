#include "ml/motion/quaternion.h"

#include <ATen/ExpandUtils.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace mp::quat {
namespace {

void checkLast(const at::Tensor &t, int64_t size, const char *what)
{
    if (t.dim() < 1 || t.size(-1) != size)
        throw std::runtime_error(std::string("quaternion: ") + what + " needs last dimension " +
                                 std::to_string(size) + ", got shape " + c10::str(t.sizes()));
}

at::Tensor component(const at::Tensor &t, int64_t i)
{
    return t.select(-1, i);
}

} // namespace

at::Tensor identity(at::IntArrayRef leadingShape, const at::TensorOptions &options)
{
    std::vector<int64_t> shape(leadingShape.begin(), leadingShape.end());
    shape.push_back(4);
    auto q = torch::zeros(shape, options);
    q.select(-1, 0).fill_(1.0);
    return q;
}

at::Tensor multiply(const at::Tensor &a, const at::Tensor &b)
{
    checkLast(a, 4, "multiply");
    checkLast(b, 4, "multiply");
    const auto aw = component(a, 0), ax = component(a, 1), ay = component(a, 2),
               az = component(a, 3);
    const auto bw = component(b, 0), bx = component(b, 1), by = component(b, 2),
               bz = component(b, 3);
    return torch::stack(
        {aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
         aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw},
        -1);
}

at::Tensor conjugate(const at::Tensor &q)
{
    checkLast(q, 4, "conjugate");
    const auto sign = torch::tensor({1.0, -1.0, -1.0, -1.0}, q.options());
    return q * sign;
}

at::Tensor inverse(const at::Tensor &q)
{
    return conjugate(q) / (q * q).sum(-1, true);
}

at::Tensor normalize(const at::Tensor &q)
{
    checkLast(q, 4, "normalize");
    return q / q.norm(2, -1, true);
}

at::Tensor positiveW(const at::Tensor &q)
{
    checkLast(q, 4, "positiveW");
    return torch::where(component(q, 0).unsqueeze(-1) < 0, -q, q);
}

at::Tensor makeContinuous(const at::Tensor &q)
{
    checkLast(q, 4, "makeContinuous");
    if (q.size(0) < 2)
        return q.clone();
    const auto dots = (q.slice(0, 1) * q.slice(0, 0, -1)).sum(-1);
    // Each negative dot flips the sign of everything after it: the parity of flips so far.
    const auto flips = (dots < 0).to(torch::kLong).cumsum(0).remainder(2);
    auto sign = 1.0 - 2.0 * flips.to(q.scalar_type());
    auto out = q.clone();
    out.slice(0, 1) *= sign.unsqueeze(-1);
    return out;
}

at::Tensor rotate(const at::Tensor &q, const at::Tensor &v)
{
    checkLast(q, 4, "rotate");
    checkLast(v, 3, "rotate");
    // linalg_cross broadcasts only between tensors of equal rank: expand both first.
    const std::vector<int64_t> lead =
        at::infer_size(q.sizes().slice(0, q.dim() - 1), v.sizes().slice(0, v.dim() - 1));
    std::vector<int64_t> shape3 = lead, shape4 = lead;
    shape3.push_back(3);
    shape4.push_back(4);
    const auto qe = q.expand(shape4);
    const auto ve = v.expand(shape3);
    const auto u = qe.slice(-1, 1, 4);
    const auto w = qe.slice(-1, 0, 1);
    const auto uv = at::linalg_cross(u, ve, -1);
    const auto uuv = at::linalg_cross(u, uv, -1);
    return ve + 2.0 * (w * uv + uuv);
}

at::Tensor fromAxisAngle(const at::Tensor &axis, const at::Tensor &angle)
{
    checkLast(axis, 3, "fromAxisAngle");
    const auto unit = axis / axis.norm(2, -1, true);
    const auto half = (angle * 0.5).unsqueeze(-1);
    auto w = torch::cos(half);
    auto xyz = torch::sin(half) * unit;
    const std::vector<int64_t> sizes = at::infer_size(w.sizes(), xyz.sizes());
    std::vector<int64_t> wShape = sizes;
    wShape.back() = 1;
    return torch::cat({w.expand(wShape), xyz.expand(sizes)}, -1);
}

at::Tensor fromYaw(const at::Tensor &angle)
{
    const auto half = angle * 0.5;
    const auto zero = torch::zeros_like(half);
    return torch::stack({torch::cos(half), zero, torch::sin(half), zero}, -1);
}

at::Tensor between(const at::Tensor &v0, const at::Tensor &v1)
{
    checkLast(v0, 3, "between");
    checkLast(v1, 3, "between");
    const std::vector<int64_t> sizes = at::infer_size(v0.sizes(), v1.sizes());
    const auto a = v0.expand(sizes), b = v1.expand(sizes);
    const auto lengths = a.norm(2, -1, true) * b.norm(2, -1, true);
    const auto w = lengths + (a * b).sum(-1, true);
    auto q = torch::cat({w, at::linalg_cross(a, b, -1)}, -1);
    // Opposite directions: w and the cross product vanish; any perpendicular axis is a shortest
    // arc. Take the one of a x X or a x Y that is longer.
    const auto ex = torch::tensor({1.0, 0.0, 0.0}, a.options()).expand(sizes);
    const auto ey = torch::tensor({0.0, 1.0, 0.0}, a.options()).expand(sizes);
    const auto cx = at::linalg_cross(a, ex, -1), cy = at::linalg_cross(a, ey, -1);
    const auto perp = torch::where(cx.norm(2, -1, true) > cy.norm(2, -1, true), cx, cy);
    const auto halfTurn = torch::cat({torch::zeros_like(w), perp}, -1);
    const auto degenerate = q.norm(2, -1, true) <= 1e-6 * lengths;
    q = torch::where(degenerate, halfTurn, q);
    return normalize(q);
}

at::Tensor toMatrix(const at::Tensor &q)
{
    checkLast(q, 4, "toMatrix");
    const auto w = component(q, 0), x = component(q, 1), y = component(q, 2), z = component(q, 3);
    const auto xx = x * x, yy = y * y, zz = z * z;
    const auto xy = x * y, xz = x * z, yz = y * z, wx = w * x, wy = w * y, wz = w * z;
    auto rows = torch::stack({1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy), 2 * (xy + wz),
                              1 - 2 * (xx + zz), 2 * (yz - wx), 2 * (xz - wy), 2 * (yz + wx),
                              1 - 2 * (xx + yy)},
                             -1);
    std::vector<int64_t> shape(q.sizes().begin(), q.sizes().end() - 1);
    shape.push_back(3);
    shape.push_back(3);
    return rows.reshape(shape);
}

at::Tensor fromMatrix(const at::Tensor &m)
{
    if (m.dim() < 2 || m.size(-1) != 3 || m.size(-2) != 3)
        throw std::runtime_error("quaternion: fromMatrix needs (..., 3, 3), got " +
                                 c10::str(m.sizes()));
    auto e = [&](int r, int c) { return m.select(-2, r).select(-1, c); };
    const auto m00 = e(0, 0), m11 = e(1, 1), m22 = e(2, 2);
    // Twice the magnitudes of w, x, y, z; the largest gives the best-conditioned division.
    const auto twice =
        torch::sqrt(torch::clamp_min(torch::stack({1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
                                                   1 - m00 + m11 - m22, 1 - m00 - m11 + m22},
                                                  -1),
                                     0.0));
    const auto t0 = twice.select(-1, 0), t1 = twice.select(-1, 1), t2 = twice.select(-1, 2),
               t3 = twice.select(-1, 3);
    // Row i: the quaternion times 4 * |q_i| when solved from component i.
    const auto candidates = torch::stack(
        {torch::stack({t0 * t0, e(2, 1) - e(1, 2), e(0, 2) - e(2, 0), e(1, 0) - e(0, 1)}, -1),
         torch::stack({e(2, 1) - e(1, 2), t1 * t1, e(1, 0) + e(0, 1), e(0, 2) + e(2, 0)}, -1),
         torch::stack({e(0, 2) - e(2, 0), e(1, 0) + e(0, 1), t2 * t2, e(1, 2) + e(2, 1)}, -1),
         torch::stack({e(1, 0) - e(0, 1), e(2, 0) + e(0, 2), e(2, 1) + e(1, 2), t3 * t3}, -1)},
        -2);
    const auto scaled = candidates / (2.0 * torch::clamp_min(twice, 0.1)).unsqueeze(-1);
    const auto best = twice.argmax(-1, true).unsqueeze(-1).expand([&] {
        std::vector<int64_t> s(twice.sizes().begin(), twice.sizes().end());
        s.push_back(4);
        s[s.size() - 2] = 1;
        return s;
    }());
    return positiveW(normalize(scaled.gather(-2, best).squeeze(-2)));
}

at::Tensor matrixToCont6d(const at::Tensor &m)
{
    return torch::cat({m.select(-1, 0), m.select(-1, 1)}, -1);
}

at::Tensor cont6dToMatrix(const at::Tensor &d6)
{
    checkLast(d6, 6, "cont6dToMatrix");
    const auto x = torch::nn::functional::normalize(
        d6.slice(-1, 0, 3), torch::nn::functional::NormalizeFuncOptions().dim(-1));
    const auto yRaw = d6.slice(-1, 3, 6);
    const auto z = torch::nn::functional::normalize(
        at::linalg_cross(x, yRaw, -1), torch::nn::functional::NormalizeFuncOptions().dim(-1));
    const auto y = at::linalg_cross(z, x, -1);
    return torch::stack({x, y, z}, -1);
}

at::Tensor toCont6d(const at::Tensor &q)
{
    return matrixToCont6d(toMatrix(q));
}

at::Tensor fromCont6d(const at::Tensor &d6)
{
    return fromMatrix(cont6dToMatrix(d6));
}

} // namespace mp::quat
