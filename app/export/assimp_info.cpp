#include "app/export/assimp_info.h"

#include <assimp/version.h>

namespace mp {

std::string assimpVersion()
{
    return std::to_string(aiGetVersionMajor()) + "." + std::to_string(aiGetVersionMinor()) + "." +
           std::to_string(aiGetVersionPatch());
}

} // namespace mp
