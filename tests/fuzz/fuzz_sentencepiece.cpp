// SentencePiece models (ml/models/sentencepiece): the ModelProto, its normaliser and a prompt
// segmented and decoded with it.
#include "ml/models/sentencepiece.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        const auto path = mp::fuzz::writeScratch("spiece.model", mp::fuzz::text(data, size));
        const mp::SentencePieceModel model(path);
        const auto ids = model.encode("A person walks forward, then jumps twice!  Ünïcødé ½");
        model.decode(ids);
    });
}
