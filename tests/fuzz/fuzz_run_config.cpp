// run.json (ml/run/run_config): parsing, checking, and writing the parsed config back.
#include "ml/run/run_config.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        const auto config = mp::parseRunConfig(mp::fuzz::text(data, size), "run.json");
        // What the run directory's config.json holds must read back.
        mp::parseRunConfig(mp::runConfigToJson(config), "config.json");
    });
}
