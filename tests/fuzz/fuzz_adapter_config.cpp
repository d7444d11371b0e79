// adapter_config.json (ml/models/lora): PEFT's LoRA config as loadLoraAdapter reads it.
#include "ml/models/lora.h"

#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        mp::fuzz::writeScratch("adapter_config.json", mp::fuzz::text(data, size));
        const auto config = mp::LoraConfig::read(mp::fuzz::scratchDir());
        mp::LoraConfig::fromJson(config.toJson(), "written adapter_config.json");
    });
}
