// Precompiled header of the ml target: the heavy LibTorch headers, parsed once.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
