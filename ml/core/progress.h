#pragma once
// Progress reporting for long ml/ calls without Qt: the callback returns false to cancel.

#include <cstdint>
#include <functional>
#include <string_view>

namespace mp {

using ProgressFn = std::function<bool(std::int64_t done, std::int64_t total, std::string_view stage)>;

// Calls progress if set; throws Cancelled when it returns false.
void reportProgress(const ProgressFn &progress, std::int64_t done, std::int64_t total,
                    std::string_view stage);

} // namespace mp
