// The evaluation's bundle generator batches different captions: each request's motion is the one
// its caption, seed and temperature give one at a time, and lands at the request's index. Uses
// the embedded default bundle (a random tiny one mostly makes empty motions, all alike).

#include "ml/core/paths.h"
#include "ml/eval/bundle_eval.h"
#include "ml/models/bundle.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

namespace {

TEST(BundleGenerator, BatchedRequestsEqualOneAtATime)
{
    mp::ModelBundle bundle(mp::defaultModelDir());
    const char *captions[] = {"a person walks forward", "a person kicks twice",
                              "a person waves slowly", "a person runs backward left"};
    std::vector<mp::GenerationRequest> requests;
    for (int i = 0; i < 11; ++i)
        requests.push_back({.sampleIndex = i,
                            .caption = captions[i % 4],
                            // Two temperatures interleaved: greedy rows go in their own batch.
                            .temperature = i % 3 == 0 ? 0.0 : 1.0,
                            .seed = 100u + static_cast<std::uint64_t>(i)});
    const auto batched = mp::bundleGenerator(bundle, 4)(requests);
    const auto single = mp::bundleGenerator(bundle, 1)(requests);
    ASSERT_EQ(batched.size(), requests.size());
    ASSERT_EQ(single.size(), requests.size());
    bool someDiffer = false;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        ASSERT_EQ(batched[i].sizes(), single[i].sizes()) << "request " << i;
        EXPECT_LT((batched[i] - single[i]).abs().max().item<double>(), 1e-5) << "request " << i;
        // The request alone through the bundle, as the generator did before batching.
        auto options = bundle.defaultOptions({requests[i].seed});
        options.sampling.temperature = requests[i].temperature;
        options.sampling.greedy = requests[i].temperature <= 0.0;
        const auto alone = bundle.generate(requests[i].caption, options);
        ASSERT_EQ(alone[0].features.sizes(), batched[i].sizes());
        EXPECT_LT((alone[0].features - batched[i]).abs().max().item<double>(), 1e-5);
        if (i > 0 && !batched[i].sizes().equals(batched[0].sizes()))
            someDiffer = true;
        else if (i > 0 && (batched[i] - batched[0]).abs().max().item<double>() > 1e-4)
            someDiffer = true;
    }
    // Different requests give different motions (the comparison above is not vacuous).
    EXPECT_TRUE(someDiffer);
}

} // namespace
