#pragma once
// Data parallelism on PyTorch's own distributed layer, c10d: the process group of one training
// job and the few collectives training needs. CPU tensors go through ProcessGroupGloo; with a
// CUDA device, ProcessGroupNCCL (where this LibTorch and the build have NCCL). Rendezvous
// through c10d's TCPStore at MASTER_ADDR:MASTER_PORT, served by rank 0, as torchrun does.
//
// World size 1 (no environment) is a plain process: no socket is opened and every collective
// returns its input. Any failure of a collective (a peer died: connection reset; a peer stalled:
// the timeout) becomes a DistributedError naming this rank, the operation and the timeout, so a
// rank never waits forever on a dead peer.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace mp {

class DistributedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Who this process is in the job. From torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) or, when RANK is unset, Slurm's (SLURM_PROCID,
// SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE; MASTER_ADDR and MASTER_PORT still come
// from the batch script).
struct RankEnvironment {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    int localWorldSize = 1;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
};

// World size 1 when neither set of variables is there. InputError naming the variable when one
// is malformed (not a number, rank outside the world, no MASTER_PORT with WORLD_SIZE > 1).
RankEnvironment rankEnvironmentFromEnv();

// Rank `rank`'s part [begin, end) of n items among worldSize ranks: contiguous, sizes differ by at
// most one, the lower ranks take the remainder.
std::pair<std::size_t, std::size_t> shardRange(std::size_t n, int rank, int worldSize);

struct DistributedOptions {
    // How long one collective (and the rendezvous) may wait for the other ranks.
    std::chrono::seconds timeout{600};
};

class Distributed {
public:
    // One process, nothing to connect.
    Distributed();
    // Joins the job's process group; `device` picks the backend (Gloo for the CPU, NCCL for
    // CUDA). DistributedError when the rendezvous fails or times out, or when this build has no
    // backend for the device.
    Distributed(const RankEnvironment &environment, const DistributedOptions &options,
                const c10::Device &device);
    ~Distributed();
    Distributed(const Distributed &) = delete;
    Distributed &operator=(const Distributed &) = delete;

    int rank() const { return m_env.rank; }
    int worldSize() const { return m_env.worldSize; }
    const RankEnvironment &environment() const { return m_env; }
    bool active() const { return m_env.worldSize > 1; }
    // Rank 0 alone writes the run directory (events, checkpoints, adapters).
    bool isWriter() const { return m_env.rank == 0; }
    std::string backendName() const;
    std::chrono::seconds timeout() const { return m_timeout; }

    // This rank's part of n items (shardRange).
    std::pair<std::size_t, std::size_t> shard(std::size_t n) const
    {
        return shardRange(n, m_env.rank, m_env.worldSize);
    }

    // Sums every rank's gradients of `params` into each rank's, in flattened buckets of about
    // bucketBytes. A gradient that is undefined here but defined on another rank counts as zero;
    // one undefined on every rank stays undefined (the optimizer skips it, as with one process).
    void allReduceGradients(const std::vector<at::Tensor> &params,
                            std::int64_t bucketBytes = kDefaultBucketBytes);
    // Sums the tensors in place (any dtype that c10d reduces), bucketed like the gradients.
    void allReduceSum(std::vector<at::Tensor> &tensors,
                      std::int64_t bucketBytes = kDefaultBucketBytes);
    // Whether `value` holds on every rank / on some rank.
    bool allTrue(bool value);
    bool anyTrue(bool value);
    // Per name, the sums of (weighted sum, weight) over all ranks; names missing on a rank count
    // as (0, 0) there.
    std::map<std::string, std::pair<double, double>>
    allReduceWeighted(const std::map<std::string, std::pair<double, double>> &local);
    // Every rank's string, in rank order.
    std::vector<std::string> allGather(const std::string &value);
    // Waits for every rank; `what` names the point in errors.
    void barrier(std::string_view what);

    // DDP's default bucket size.
    static constexpr std::int64_t kDefaultBucketBytes = 25 * 1024 * 1024;

    class Group; // the backend, behind a small interface (distributed.cpp)

private:
    std::vector<at::Tensor> allReduceBucket(std::vector<at::Tensor> tensors, std::string_view what);
    at::Tensor toBackend(const at::Tensor &tensor) const;

    RankEnvironment m_env;
    std::chrono::seconds m_timeout{600};
    c10::Device m_device{c10::kCPU};
    std::unique_ptr<Group> m_group;
};

} // namespace mp
