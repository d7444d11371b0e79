// The gold and repeat rates of a study (check_pairs.h), kept apart from the pairs' corruption,
// which uses LibTorch: motionpref-cli's `study checks` reads and sets them without loading it
// (app/cli/command_library.h).

#include "app/study/check_pairs.h"

#include "app/study/study_store.h"
#include "ml/core/error.h"

#include <string>

namespace mp {

namespace {

const QString kGoldRateKey = QStringLiteral("gold_rate");
const QString kRepeatRateKey = QStringLiteral("repeat_rate");

double rateFromMeta(const StudyStore &store, const QString &key)
{
    const QString text = store.meta(key);
    if (text.isEmpty())
        return 0.0;
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok || !(value >= 0 && value <= kMaxCheckShare))
        throw InputError("study_meta " + key.toStdString() + " is '" + text.toStdString() +
                         "', not a rate in [0, 0.5]");
    return value;
}

} // namespace

CheckRates checkRates(const StudyStore &store)
{
    return {rateFromMeta(store, kGoldRateKey), rateFromMeta(store, kRepeatRateKey)};
}

void setCheckRates(StudyStore &store, const CheckRates &rates)
{
    for (const double rate : {rates.gold, rates.repeat}) {
        if (!(rate >= 0 && rate <= kMaxCheckShare))
            throw InputError("a gold or repeat rate must be in [0, 0.5], got " +
                             std::to_string(rate));
    }
    if (rates.gold + rates.repeat > kMaxCheckShare + 1e-12)
        throw InputError("gold and repeat rates together must be at most 0.5 (one check pair "
                         "at most before each normal pair), got " +
                         std::to_string(rates.gold + rates.repeat));
    store.runInTransaction([&] {
        store.setMeta(kGoldRateKey, QString::number(rates.gold));
        store.setMeta(kRepeatRateKey, QString::number(rates.repeat));
    });
}

} // namespace mp
