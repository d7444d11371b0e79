// PyTorch checkpoints (ml/data/zip_archive, pickle_reader, torch_checkpoint): torch.save's zip
// and legacy layouts, and every tensor the unpickled tree references.
#include "ml/data/torch_checkpoint.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

void readTensors(const mp::TorchCheckpoint &checkpoint, const mp::PickleValue &value, int depth)
{
    if (depth > 100)
        return;
    switch (value.kind()) {
    case mp::PickleValue::Kind::Tensor:
        checkpoint.tensor(value.toTensor());
        break;
    case mp::PickleValue::Kind::List:
    case mp::PickleValue::Kind::Tuple:
        for (const auto &item : value.toList())
            readTensors(checkpoint, item, depth + 1);
        break;
    case mp::PickleValue::Kind::Dict:
        for (const auto &[key, item] : value.toDict())
            readTensors(checkpoint, item, depth + 1);
        break;
    default:
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        const auto path = mp::fuzz::writeScratch("fuzz.pt", mp::fuzz::text(data, size));
        const mp::TorchCheckpoint checkpoint(path);
        readTensors(checkpoint, checkpoint.root(), 0);
        if (checkpoint.root().is(mp::PickleValue::Kind::Dict))
            checkpoint.tensors("");
    });
}
