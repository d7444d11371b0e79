#include "app/cli/qt/study_cli.h"

#include "app/study/study_store.h"

#include <cmath>
#include <cstdio>

namespace mp::cli {

QString qs(const std::string &text)
{
    return QString::fromStdString(text);
}

void openStudy(StudyStore &store, const ParsedArgs &args)
{
    store.open(qs(args.positional(0, "STUDY")));
}

std::string number(double value, int decimals)
{
    if (std::isnan(value))
        return "n/a";
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

double jsonNumber(double value)
{
    return std::isnan(value) ? 0.0 : value;
}

} // namespace mp::cli
