#include "ml/core/distributed.h"

// c10d's backend headers declare their classes only under these macros; CMake sets
// MP_HAVE_GLOO / MP_HAVE_NCCL where the gloo and NCCL headers were found (ml/core/CMakeLists.txt).
#if MP_HAVE_GLOO && !defined(USE_C10D_GLOO)
#define USE_C10D_GLOO
#endif
#if MP_HAVE_NCCL && !defined(USE_C10D_NCCL)
#define USE_C10D_NCCL
#endif

#include <algorithm>
#include <cstdlib>
#include <limits>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if MP_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if MP_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "ml/core/error.h"

namespace mp {
namespace {

const char *envValue(const char *name)
{
    const char *value = std::getenv(name);
    return value && *value ? value : nullptr;
}

int envInt(const char *name, int fallback, int lowest, int highest)
{
    const char *text = envValue(name);
    if (!text)
        return fallback;
    char *end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < lowest || value > highest)
        throw InputError(std::string("environment: ") + name + "='" + text +
                         "' is not a whole number in [" + std::to_string(lowest) + ", " +
                         std::to_string(highest) + "]");
    return static_cast<int>(value);
}

// SLURM_NTASKS_PER_NODE may read "2" or "2(x3)"; the count before any parenthesis.
int slurmTasksPerNode(int fallback)
{
    const char *text = envValue("SLURM_NTASKS_PER_NODE");
    if (!text)
        return fallback;
    const int value = std::atoi(text);
    return value > 0 ? value : fallback;
}

std::string errorText(const std::exception &error)
{
    if (const auto *c10Error = dynamic_cast<const c10::Error *>(&error))
        return c10Error->what_without_backtrace();
    return error.what();
}

bool isLoopback(const std::string &address)
{
    return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

} // namespace

RankEnvironment rankEnvironmentFromEnv()
{
    RankEnvironment env;
    constexpr int kMany = 1 << 20;
    if (envValue("RANK") || envValue("WORLD_SIZE")) {
        env.worldSize = envInt("WORLD_SIZE", 1, 1, kMany);
        env.rank = envInt("RANK", 0, 0, env.worldSize - 1);
        env.localRank = envInt("LOCAL_RANK", env.rank, 0, kMany);
        env.localWorldSize = envInt("LOCAL_WORLD_SIZE", env.worldSize, 1, kMany);
    } else if (envValue("SLURM_PROCID") && envValue("SLURM_NTASKS")) {
        env.worldSize = envInt("SLURM_NTASKS", 1, 1, kMany);
        env.rank = envInt("SLURM_PROCID", 0, 0, env.worldSize - 1);
        env.localRank = envInt("SLURM_LOCALID", 0, 0, kMany);
        env.localWorldSize = slurmTasksPerNode(1);
    }
    if (const char *addr = envValue("MASTER_ADDR"))
        env.masterAddr = addr;
    if (env.worldSize > 1 && !envValue("MASTER_PORT"))
        throw InputError("environment: WORLD_SIZE is " + std::to_string(env.worldSize) +
                         " but MASTER_PORT is unset (set MASTER_ADDR and MASTER_PORT to where "
                         "rank 0 listens)");
    env.masterPort = envInt("MASTER_PORT", env.masterPort, 1, 65535);
    return env;
}

// The backend's allreduce, whichever class provides it (ProcessGroup in LibTorch 1.13, Backend
// in 2.x: both have allreduce(std::vector<Tensor>&, const AllreduceOptions&)).
class Distributed::Group {
public:
    virtual ~Group() = default;
    virtual void allReduce(std::vector<at::Tensor> &tensors, c10d::ReduceOp op) = 0;
};

namespace {

template <class Backend> class GroupOf final : public Distributed::Group {
public:
    explicit GroupOf(c10::intrusive_ptr<Backend> backend) : m_backend(std::move(backend)) {}
    void allReduce(std::vector<at::Tensor> &tensors, c10d::ReduceOp op) override
    {
        c10d::AllreduceOptions options;
        options.reduceOp = op;
        m_backend->allreduce(tensors, options)->wait();
    }

private:
    c10::intrusive_ptr<Backend> m_backend;
};

} // namespace

Distributed::Distributed() = default;

Distributed::Distributed(const RankEnvironment &environment, const DistributedOptions &options,
                         const c10::Device &device)
    : m_env(environment), m_timeout(options.timeout), m_device(device)
{
    if (m_env.worldSize <= 1)
        return;
    const std::string where = "rank " + std::to_string(m_env.rank) + " of " +
                              std::to_string(m_env.worldSize) + ": joining " + m_env.masterAddr +
                              ":" + std::to_string(m_env.masterPort) + " (" + backendName() +
                              ", timeout " + std::to_string(m_timeout.count()) + " s): ";
    try {
        c10d::TCPStoreOptions storeOptions;
        storeOptions.port = static_cast<std::uint16_t>(m_env.masterPort);
        storeOptions.isServer = m_env.rank == 0;
        storeOptions.numWorkers = static_cast<std::size_t>(m_env.worldSize);
        storeOptions.waitWorkers = true;
        storeOptions.timeout = m_timeout;
        auto store = c10::make_intrusive<c10d::TCPStore>(m_env.masterAddr, storeOptions);
        if (device.is_cuda()) {
#if MP_HAVE_NCCL
            auto ncclOptions = c10d::ProcessGroupNCCL::Options::create();
            ncclOptions->timeout = m_timeout;
            m_group = std::make_unique<GroupOf<c10d::ProcessGroupNCCL>>(
                c10::make_intrusive<c10d::ProcessGroupNCCL>(store, m_env.rank, m_env.worldSize,
                                                            ncclOptions));
#else
            throw DistributedError("this build has no NCCL (configure against a CUDA LibTorch "
                                   "with NCCL's headers; packaging/cuda-build.sh)");
#endif
        } else {
#if MP_HAVE_GLOO
            auto glooOptions = c10d::ProcessGroupGloo::Options::create(m_timeout);
            if (const char *interface = envValue("GLOO_SOCKET_IFNAME"))
                glooOptions->devices.push_back(
                    c10d::ProcessGroupGloo::createDeviceForInterface(interface));
            else if (isLoopback(m_env.masterAddr))
                glooOptions->devices.push_back(
                    c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            else
                glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            m_group = std::make_unique<GroupOf<c10d::ProcessGroupGloo>>(
                c10::make_intrusive<c10d::ProcessGroupGloo>(store, m_env.rank, m_env.worldSize,
                                                            glooOptions));
#else
            throw DistributedError("this build has no Gloo (install libgloo-dev and configure "
                                   "again; packaging/install-deps.sh)");
#endif
        }
    } catch (const DistributedError &error) {
        throw DistributedError(where + error.what());
    } catch (const std::exception &error) {
        throw DistributedError(where + errorText(error));
    }
    barrier("after joining");
}

Distributed::~Distributed() = default;

std::string Distributed::backendName() const
{
    if (!active())
        return "one process";
    return m_device.is_cuda() ? "NCCL" : "Gloo";
}

std::pair<std::size_t, std::size_t> shardRange(std::size_t n, int rankIndex, int worldSize)
{
    const auto world = static_cast<std::size_t>(std::max(1, worldSize));
    const auto rank = static_cast<std::size_t>(rankIndex);
    const std::size_t base = n / world, extra = n % world;
    const std::size_t begin = rank * base + std::min(rank, extra);
    return {begin, begin + base + (rank < extra ? 1 : 0)};
}

at::Tensor Distributed::toBackend(const at::Tensor &tensor) const
{
    return tensor.to(m_device);
}

std::vector<at::Tensor> Distributed::allReduceBucket(std::vector<at::Tensor> tensors,
                                                     std::string_view what)
{
    try {
        m_group->allReduce(tensors, c10d::ReduceOp::SUM);
    } catch (const std::exception &error) {
        throw DistributedError(
            "rank " + std::to_string(m_env.rank) + " of " + std::to_string(m_env.worldSize) + ": " +
            std::string(what) + " failed (another rank has died or stalled past the " +
            std::to_string(m_timeout.count()) + " s timeout): " + errorText(error));
    }
    return tensors;
}

void Distributed::allReduceSum(std::vector<at::Tensor> &tensors, std::int64_t bucketBytes)
{
    if (!active() || tensors.empty())
        return;
    std::size_t begin = 0;
    while (begin < tensors.size()) {
        // A bucket: consecutive tensors of one dtype and device, about bucketBytes in all.
        std::size_t end = begin;
        std::int64_t bytes = 0;
        while (end < tensors.size() &&
               (end == begin ||
                (bytes < bucketBytes && tensors[end].dtype() == tensors[begin].dtype() &&
                 tensors[end].device() == tensors[begin].device()))) {
            bytes += tensors[end].numel() * static_cast<std::int64_t>(tensors[end].element_size());
            ++end;
        }
        std::vector<at::Tensor> flat;
        for (std::size_t i = begin; i < end; ++i)
            flat.push_back(tensors[i].reshape({-1}));
        const at::Tensor bucket = toBackend(at::cat(flat));
        const at::Tensor summed = allReduceBucket({bucket}, "gradient all-reduce").front();
        std::int64_t offset = 0;
        for (std::size_t i = begin; i < end; ++i) {
            const std::int64_t n = tensors[i].numel();
            tensors[i].copy_(summed.slice(0, offset, offset + n).view(tensors[i].sizes()));
            offset += n;
        }
        begin = end;
    }
}

void Distributed::allReduceGradients(const std::vector<at::Tensor> &params,
                                     std::int64_t bucketBytes)
{
    if (!active() || params.empty())
        return;
    // Which gradients exist anywhere: summed flags.
    std::vector<float> definedHere(params.size());
    for (std::size_t i = 0; i < params.size(); ++i)
        definedHere[i] = params[i].grad().defined() ? 1.0f : 0.0f;
    const at::Tensor flags = allReduceBucket({toBackend(at::tensor(at::ArrayRef<float>(definedHere),
                                                                   at::TensorOptions(at::kFloat)))},
                                             "gradient all-reduce (which gradients exist)")
                                 .front()
                                 .cpu();
    std::vector<at::Tensor> grads;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (flags[static_cast<std::int64_t>(i)].item<float>() == 0.0f)
            continue;
        at::Tensor param = params[i];
        if (!param.grad().defined())
            param.mutable_grad() = at::zeros_like(param);
        grads.push_back(param.grad());
    }
    allReduceSum(grads, bucketBytes);
}

bool Distributed::allTrue(bool value)
{
    if (!active())
        return value;
    const at::Tensor count =
        allReduceBucket({toBackend(at::full({1}, value ? 1.0f : 0.0f, at::kFloat))},
                        "agreement between ranks")
            .front();
    return count.item<float>() == static_cast<float>(m_env.worldSize);
}

bool Distributed::anyTrue(bool value)
{
    return !allTrue(!value); // some rank holds true = not every rank holds false
}

std::vector<std::string> Distributed::allGather(const std::string &value)
{
    if (!active())
        return {value};
    const auto world = static_cast<std::int64_t>(m_env.worldSize);
    // Lengths first (a sum of one-hot rows), then the bytes in a zero matrix, one row per rank.
    at::Tensor lengths = at::zeros({world}, at::kLong);
    lengths[m_env.rank] = static_cast<std::int64_t>(value.size());
    lengths = allReduceBucket({toBackend(lengths)}, "exchange between ranks").front().cpu();
    const std::int64_t longest = std::max<std::int64_t>(1, lengths.max().item<std::int64_t>());
    at::Tensor bytes = at::zeros({world, longest}, at::kInt);
    for (std::size_t i = 0; i < value.size(); ++i)
        bytes[m_env.rank][static_cast<std::int64_t>(i)] = static_cast<unsigned char>(value[i]);
    bytes = allReduceBucket({toBackend(bytes)}, "exchange between ranks").front().cpu();
    std::vector<std::string> out;
    for (std::int64_t r = 0; r < world; ++r) {
        std::string text(static_cast<std::size_t>(lengths[r].item<std::int64_t>()), '\0');
        for (std::size_t i = 0; i < text.size(); ++i)
            text[i] = static_cast<char>(bytes[r][static_cast<std::int64_t>(i)].item<int>());
        out.push_back(std::move(text));
    }
    return out;
}

std::map<std::string, std::pair<double, double>>
Distributed::allReduceWeighted(const std::map<std::string, std::pair<double, double>> &local)
{
    if (!active())
        return local;
    // The union of every rank's names, in one order on all ranks.
    std::string names;
    for (const auto &[name, _] : local)
        names += name + '\n';
    std::map<std::string, std::pair<double, double>> out;
    for (const std::string &rankNames : allGather(names)) {
        std::size_t begin = 0;
        for (std::size_t end; (end = rankNames.find('\n', begin)) != std::string::npos;
             begin = end + 1)
            out[rankNames.substr(begin, end - begin)] = {0.0, 0.0};
    }
    at::Tensor sums = at::zeros({static_cast<std::int64_t>(out.size()), 2}, at::kDouble);
    std::int64_t row = 0;
    for (const auto &[name, _] : out) {
        if (const auto it = local.find(name); it != local.end()) {
            sums[row][0] = it->second.first;
            sums[row][1] = it->second.second;
        }
        ++row;
    }
    sums = allReduceBucket({toBackend(sums)}, "metric reduction").front().cpu();
    row = 0;
    for (auto &[name, slot] : out) {
        slot = {sums[row][0].item<double>(), sums[row][1].item<double>()};
        ++row;
    }
    return out;
}

void Distributed::barrier(std::string_view what)
{
    if (!active())
        return;
    allReduceBucket({toBackend(at::ones({1}, at::kFloat))},
                    std::string("waiting for every rank ") + std::string(what));
}

} // namespace mp
