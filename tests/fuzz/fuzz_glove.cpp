// The T2M evaluator's GloVe pickles (ml/eval/t2m_import): our_vab_words.pkl (a list of str) and
// our_vab_idx.pkl (a dict str -> int) beside the fixture's our_vab_data.npy. The input holds
// both pickles: a 2-byte little-endian length of the words pickle, the words pickle, then the
// index pickle.
#include "ml/eval/t2m_import.h"
#include "tests/fuzz/fuzz_common.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const bool vectors = [] {
        std::filesystem::copy_file(
            mp::fuzz::sourceDir() / "tests/reference/golden/t2m_evaluator/glove/our_vab_data.npy",
            mp::fuzz::scratchDir() / "our_vab_data.npy",
            std::filesystem::copy_options::overwrite_existing);
        return true;
    }();
    (void)vectors;
    const auto input = mp::fuzz::text(data, size);
    const std::size_t wordsSize =
        size < 2 ? 0 : std::min<std::size_t>(size - 2, data[0] | (std::size_t(data[1]) << 8));
    const auto rest = input.substr(std::min<std::size_t>(size, 2));
    mp::fuzz::writeScratch("our_vab_words.pkl", rest.substr(0, wordsSize));
    mp::fuzz::writeScratch("our_vab_idx.pkl", rest.substr(wordsSize));
    return mp::fuzz::run([&] { mp::readT2mGlove(mp::fuzz::scratchDir()); });
}
