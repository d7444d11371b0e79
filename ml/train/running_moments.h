#pragma once
// TRL's RunningMoments (spec §4.8): a running mean/variance merged batch by batch (Chan et al.),
// used for PPO score scaling and the bco_pair reward shift.

#include <ATen/core/Tensor.h>

namespace mp {

class RunningMoments {
public:
    struct BatchMoments {
        double mean; // of this batch
        double std;  // unbiased std of this batch
    };

    // Merges a batch (all elements, any shape) and returns its own moments, as TRL's update does.
    BatchMoments update(const at::Tensor &values);

    double mean() const { return m_mean; }
    double var() const { return m_var; } // biased, of everything seen
    double std() const { return m_std; } // unbiased, of everything seen
    double count() const { return m_count; }

    // For checkpoints.
    void setState(double mean, double var, double std, double count);

private:
    double m_mean = 0.0;
    double m_var = 1.0;
    double m_std = 1.0;
    // TRL starts with a tiny count so the first merge is well defined.
    double m_count = 1e-24;
};

} // namespace mp
