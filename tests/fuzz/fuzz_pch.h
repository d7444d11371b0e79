#pragma once
// The fuzz build's precompiled header: ml's, after ATen/core/ivalue.h. clang 14 with libstdc++ 12
// in C++20 instantiates std::vector<c10::IValue>'s constexpr members where torch/torch.h first
// names it, before IValue is complete, and fails; with IValue complete first it compiles.
#include <ATen/core/ivalue.h>

#include "ml/ml_pch.h"
