// safetensors (ml/data/safetensors): the header, every entry and every tensor's bytes.
#include "ml/data/safetensors.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        const auto path = mp::fuzz::writeScratch("fuzz.safetensors", mp::fuzz::text(data, size));
        mp::SafetensorsReader reader(path);
        for (const auto &name : reader.names())
            reader.tensor(name);
    });
}
