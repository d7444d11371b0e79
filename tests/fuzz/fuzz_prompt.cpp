// Prompts (ml/models/tokenizer): any bytes as a prompt, through the default model's tokenizer.
#include "ml/models/tokenizer.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const mp::Tokenizer tokenizer(mp::fuzz::sourceDir() /
                                             "resources/models/default/spiece.model",
                                         mp::MotionTokenLayout{.textVocabSize = 369});
    return mp::fuzz::run([&] {
        const auto ids = tokenizer.encodeText(mp::fuzz::text(data, size));
        tokenizer.decodeText(ids);
    });
}
