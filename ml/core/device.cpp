#include "ml/core/device.h"

#include <cstdlib>

#include "ml/core/error.h"

#include <thread>

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>

namespace mp {

bool cudaAvailable()
{
    return torch::cuda::is_available();
}

std::string describeCuda()
{
    const auto &hooks = at::detail::getCUDAHooks();
    long runtime = 0;
    try {
        runtime = hooks.versionCUDART(); // throws unless the CUDA part of LibTorch is loaded
    } catch (const std::exception &) {
        return "CPU-only LibTorch (built without CUDA)";
    }
    const auto version = [](long v, long major, long minor) {
        return std::to_string(v / major) + "." + std::to_string(v % major / minor);
    };
    std::string text = "LibTorch built with CUDA " + version(runtime, 1000, 10);
    try {
        if (hooks.compiledWithCuDNN()) {
            const long cudnn = hooks.versionCuDNN(); // e.g. 92600 for 9.26.0
            text += ", cuDNN " + version(cudnn, 10000, 100) + "." + std::to_string(cudnn % 100);
        }
    } catch (const std::exception &) {
        // cuDNN is optional; the line stays without it
    }
    const auto gpus = torch::cuda::device_count();
    text += "; " + std::to_string(gpus) + (gpus == 1 ? " GPU visible" : " GPUs visible");
    if (gpus == 0)
        text += " (no driver, no device, or CUDA_VISIBLE_DEVICES hides them)";
    return text;
}

c10::Device resolveDevice(std::string_view request)
{
    if (request == "auto" || request.empty())
        return cudaAvailable() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    if (request == "cpu")
        return c10::Device(c10::kCPU);
    if (request == "cuda" || request.starts_with("cuda:")) {
        if (!cudaAvailable())
            throw InputError(
                "--device " + std::string(request) +
                ": no CUDA device is usable (this LibTorch build is CPU-only or no GPU "
                "is visible); use --device cpu or a CUDA LibTorch via Torch_DIR");
        try {
            return c10::Device(std::string(request));
        } catch (const std::exception &) {
            throw InputError("--device " + std::string(request) + ": not a device name");
        }
    }
    throw InputError("--device " + std::string(request) + ": expected auto, cpu or cuda[:N]");
}

std::string describeDevice(const c10::Device &device)
{
    if (device.is_cuda())
        return "CUDA:" + std::to_string(device.index() < 0 ? 0 : device.index());
    const int threads = at::get_num_threads();
    return "CPU (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)");
}

void configureTorchThreads()
{
    // OMP_NUM_THREADS wins: on a machine shared with other busy processes, one thread per job
    // avoids OpenMP barriers waiting on descheduled threads (a 2-thread VQ-VAE step went from
    // 0.15 s to 11 s next to two compilers).
    if (const char *requested = std::getenv("OMP_NUM_THREADS")) {
        const int threads = std::atoi(requested);
        if (threads > 0) {
            at::set_num_threads(threads);
            return;
        }
    }
    const unsigned hardwareThreads = std::max(1u, std::thread::hardware_concurrency());
    at::set_num_threads(static_cast<int>(hardwareThreads));
}

} // namespace mp
