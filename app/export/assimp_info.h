#pragma once
#include <string>

namespace mp {

// The Assimp library version linked at run time, e.g. "5.2.5".
std::string assimpVersion();

} // namespace mp
