// .npy (ml/data/npy): the header, the dtype and the data, from memory and from a file.
#include "ml/data/npy.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    mp::fuzz::run([&] { mp::npy::fromBytes(mp::fuzz::text(data, size), "fuzz.npy"); });
    return mp::fuzz::run([&] {
        const auto path = mp::fuzz::writeScratch("fuzz.npy", mp::fuzz::text(data, size));
        mp::npy::readHeader(path);
    });
}
