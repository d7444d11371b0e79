#include "ml/core/version.h"

#include <torch/version.h>

namespace mp {

std::string projectVersion()
{
    return MP_VERSION;
}

std::string torchVersion()
{
    return TORCH_VERSION;
}

} // namespace mp
