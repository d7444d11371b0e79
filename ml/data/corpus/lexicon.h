#pragma once
// The corpus lexicon: every word the caption grammar uses, with its lemma and part of speech
// (the classes the T2M evaluator one-hot encodes: VERB, NOUN, DET, ADP, NUM, PRON, ADJ, ADV,
// OTHER). It tags captions into the HumanML3D text line form and parses captions back to the
// actions they describe, so tests and the simulated labeler can check a caption against a clip.

#include "ml/data/corpus/action.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mp::corpus {

struct TaggedWord {
    std::string lemma;
    std::string pos;
};

// Lower-cased words of a caption, punctuation dropped (commas kept as "," when keepCommas).
std::vector<std::string> splitWords(std::string_view caption, bool keepCommas = false);

// Tags every word; throws std::runtime_error naming the word when it is not in the lexicon
// (the grammar must only use lexicon words).
std::vector<TaggedWord> tagCaption(std::string_view caption);

// "a person walks.#a/DET person/NOUN walk/VERB#0.0#0.0": one line of a HumanML3D texts file.
std::string humanml3dTextLine(std::string_view caption, double startS = 0.0, double endS = 0.0);

struct ParsedAction {
    Action action;
    std::optional<Side> side; // when the clause names one (left/right/both/clockwise...)
    std::optional<int> count; // when the clause names a count (twice, three times, four steps)
};

// The actions a caption describes, in the order they happen. Clauses the parser cannot place
// are left out, so a test comparing against the plan catches grammar/parser disagreements.
std::vector<ParsedAction> parseCaption(std::string_view caption);

// True when word is in the lexicon (for tests: the grammar's closure).
bool inLexicon(std::string_view word);

} // namespace mp::corpus
