#include "ml/core/progress.h"

#include "ml/core/error.h"

namespace mp {

void reportProgress(const ProgressFn &progress, std::int64_t done, std::int64_t total,
                    std::string_view stage)
{
    if (progress && !progress(done, total, stage))
        throw Cancelled();
}

} // namespace mp
