// The restricted unpickler (ml/data/pickle_reader) on its own, persistent ids allowed, as
// torch.save's data.pkl and the GloVe vocabularies reach it.
#include "ml/data/pickle_reader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        const auto result =
            mp::unpickle(data, size, 0, "fuzz.pkl", mp::PickleOptions{.allowPersistentIds = true});
        mp::findSkipped(result.value);
    });
}
