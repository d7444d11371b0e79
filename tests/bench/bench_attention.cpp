// T5's attention core, fused (ml/models/fused_attention.h) against LibTorch's operations (heads
// split, matmul, bias add, softmax, matmul, heads merged: what T5Attention ran before), forward and
// backward as a LoRA-on-q-and-v training step needs them (gradients for query and value only), on
// the shapes of the side-by-side DPO step: 128 rows (64 pairs' chosen and rejected) of 47 label
// positions, and 64 rows of the encoder's prompts. Alternating A, B, A, B in one process; prints
// each shape's median process CPU ms per forward + backward and the ratio. No assertion on times.
//   bench_attention [repeats=5] [threads=1]

#include "ml/models/fused_attention.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace {

struct AttentionShape {
    const char *name;
    std::int64_t batch, queries, keys, heads, dKv;
    bool fullBias; // (B, H, q, k) bias, as T5's self-attention masks build it; else (B, 1, 1, k)
};

double cpuMs()
{
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

at::Tensor libtorchAttention(const at::Tensor &query, const at::Tensor &key,
                             const at::Tensor &value, const at::Tensor &bias, std::int64_t heads)
{
    const auto split = [&](const at::Tensor &x) {
        return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
    };
    auto scores = torch::matmul(split(query), split(key).transpose(-1, -2)) + bias;
    const auto weights = torch::softmax(scores, -1);
    return torch::matmul(weights, split(value)).transpose(1, 2).reshape(query.sizes());
}

double stepMs(const AttentionShape &s, bool fused, const at::Tensor &queryInit,
              const at::Tensor &key, const at::Tensor &valueInit, const at::Tensor &bias,
              const at::Tensor &upstream)
{
    const auto query = queryInit.clone().requires_grad_(true);
    const auto value = valueInit.clone().requires_grad_(true);
    const double start = cpuMs();
    const auto out = fused ? mp::fusedAttention(query, key, value, bias, s.heads)
                           : libtorchAttention(query, key, value, bias, s.heads);
    out.backward(upstream);
    return cpuMs() - start;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    torch::set_num_threads(argc > 2 ? std::max(1, std::atoi(argv[2])) : 1);
    const std::vector<AttentionShape> shapes{
        {"decoder self, default size (128 x 47, 4 heads)", 128, 47, 47, 4, 64, true},
        {"decoder cross, default size (prompts of 24)", 128, 47, 24, 4, 64, false},
        {"encoder self, default size (64 x 24)", 64, 24, 24, 4, 64, true},
        {"decoder self, flan size (128 x 47, 12 heads)", 128, 47, 47, 12, 64, true},
    };
    torch::manual_seed(1);
    std::printf("%-48s %10s %10s %7s\n", "shape", "LibTorch", "fused", "ratio");
    for (const auto &s : shapes) {
        const auto width = s.heads * s.dKv;
        const auto query = torch::randn({s.batch, s.queries, width});
        const auto key = torch::randn({s.batch, s.keys, width});
        const auto value = torch::randn({s.batch, s.keys, width});
        const auto bias = s.fullBias ? torch::randn({s.batch, s.heads, s.queries, s.keys})
                                     : torch::zeros({s.batch, 1, 1, s.keys});
        const auto upstream = torch::randn({s.batch, s.queries, width});
        stepMs(s, false, query, key, value, bias, upstream); // warm-up
        stepMs(s, true, query, key, value, bias, upstream);
        std::vector<double> plain, fused;
        for (int r = 0; r < repeats; ++r) {
            plain.push_back(stepMs(s, false, query, key, value, bias, upstream));
            fused.push_back(stepMs(s, true, query, key, value, bias, upstream));
        }
        std::printf("%-48s %8.2f ms %8.2f ms %6.2fx\n", s.name, median(plain), median(fused),
                    median(plain) / median(fused));
    }
    return 0;
}
