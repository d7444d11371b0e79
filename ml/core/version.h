#pragma once
#include <string>

namespace mp {

std::string projectVersion();
std::string torchVersion();

} // namespace mp
