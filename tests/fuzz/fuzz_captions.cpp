// HumanML3D caption lines (ml/data/humanml3d_dataset): caption#tokens#start#end.
#include "ml/data/humanml3d_dataset.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        for (const auto &caption :
             mp::parseCaptions(std::string(mp::fuzz::text(data, size)), "000001.txt"))
            mp::formatCaptionLine(caption);
    });
}
