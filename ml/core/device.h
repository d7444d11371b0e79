#pragma once
// The compute device is resolved once, here, and passed down.

#include <string>
#include <string_view>

#include <c10/core/Device.h>

namespace mp {

// "auto" picks CUDA when this LibTorch build and the machine have it, else CPU.
// "cuda" without a usable GPU is an InputError naming what is missing.
c10::Device resolveDevice(std::string_view request);

// A short human description: "CPU (2 threads)" or "CUDA: NVIDIA H100 ...".
std::string describeDevice(const c10::Device &device);

bool cudaAvailable();

// What this LibTorch and machine offer for CUDA, in one line: "CPU-only LibTorch (built without
// CUDA)", or "LibTorch built with CUDA 13.2, cuDNN 9.26.0; 1 GPU visible".
std::string describeCuda();

// Sets LibTorch's intra-op threads to the machine's hardware threads; call once at start.
void configureTorchThreads();

} // namespace mp
