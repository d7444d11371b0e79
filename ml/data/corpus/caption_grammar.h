#pragma once
// Captions for a clip plan, from a small grammar: synonyms, word-order variation, speeds,
// directions, counts, handedness and "then" sequencing ("a person walks forward slowly, then
// turns left"). Every word the grammar can produce is in the lexicon (lexicon.h), which tags the
// captions and parses them back to actions.

#include "ml/data/corpus/action.h"

#include <string>
#include <vector>

namespace mp::corpus {

class ClipRng;

// Distinct captions (at least minCount when the grammar allows; it always does for >= 3) for the
// plan's segments, in their order. Deterministic for a given generator state.
std::vector<std::string> makeCaptions(const std::vector<Segment> &segments, ClipRng &rng,
                                      int minCount = 3, int maxCount = 4);

} // namespace mp::corpus
