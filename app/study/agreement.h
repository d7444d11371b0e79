#pragma once
// Inter-annotator agreement and per-labeler habits on a study's current labels.
//
// Scales: Cohen's and Fleiss' kappa treat a label as one of three nominal categories (sample_1,
// sample_2, unsure); Krippendorff's alpha uses the ordinal signed scale -3..+3 (signedPreference:
// sample_1 "Much better" = +3 ... sample_2 "Much better" = -3, unsure and "Negligibly" = 0), so
// that "Better" vs "Much better" counts as a small disagreement. Skips are not judgments and are
// left out everywhere. Agreement is measured on the overlap: pairs with two or more labelers.

#include "app/study/study_types.h"

#include <QString>

#include <optional>
#include <vector>

namespace mp {

class StudyStore;

// The nominal category of a choice for kappa: sample_1 0, sample_2 1, unsure 2; nullopt for a
// skip.
std::optional<int> choiceCategory(Choice choice);

// Cohen's kappa of two raters over the same items (categories are small non-negative ints).
// NaN when chance agreement is 1 (both raters always used one and the same category).
double cohenKappa(const std::vector<int> &a, const std::vector<int> &b);

// Fleiss' kappa. counts[i][j]: how many raters put item i in category j. Items may have
// different rater counts (each >= 2; items with fewer are ignored). NaN when undefined.
double fleissKappa(const std::vector<std::vector<int>> &counts);

enum class AlphaMetric { Nominal, Ordinal, Interval };
// Krippendorff's alpha. units[u]: the values given to unit u (missing ones simply absent);
// units with fewer than two values are not pairable and are ignored. NaN when undefined.
double krippendorffAlpha(const std::vector<std::vector<int>> &units, AlphaMetric metric);

// Two-sided exact binomial test of k successes in n trials against p = 1/2.
double binomialTwoSidedP(int k, int n);

struct LabelerStats {
    QString labeler;
    int labels = 0; // current labels, skips included
    int skips = 0;
    int unsure = 0;    // "unsure" choices and "Negligibly better/unsure" preferences
    int leftPicks = 0; // a preference for the sample that was shown on the left
    int rightPicks = 0;
    double leftShare = 0;        // leftPicks / (leftPicks + rightPicks); NaN without picks
    double positionBiasP = 1;    // binomial test of leftPicks against 50/50
    double meanTimeOnTaskMs = 0; // over current labels that recorded a time
};

struct PairwiseKappa {
    QString labelerA;
    QString labelerB;
    int overlap = 0; // pairs both labeled (skips left out)
    double kappa = 0;
};

struct AgreementReport {
    int labelers = 0;
    int overlapPairs = 0;             // pairs with two or more non-skip labels
    std::vector<PairwiseKappa> cohen; // every pair of labelers with an overlap
    double fleissKappa = 0;
    double alphaOrdinal = 0;
    double alphaNominal = 0;
    std::vector<LabelerStats> perLabeler;
};

AgreementReport computeAgreement(const StudyStore &store);

} // namespace mp
