// csvCell (study_io.h) on its own: the leaderboard's CSV uses it, and the rest of study_io
// reads token files with LibTorch, which `motionpref-cli study leaderboard` does not load.

#include "app/study/study_io.h"

namespace mp {

QString csvCell(const QString &value, bool text)
{
    QString cell = value;
    if (text && !cell.isEmpty() && QStringLiteral("=+-@").contains(cell.front()))
        cell.prepend(QLatin1Char('\''));
    if (cell.contains(QLatin1Char(',')) || cell.contains(QLatin1Char('"')) ||
        cell.contains(QLatin1Char('\n')) || cell.contains(QLatin1Char('\r'))) {
        cell.replace(QLatin1String("\""), QLatin1String("\"\""));
        cell = QLatin1Char('"') + cell + QLatin1Char('"');
    }
    return cell;
}

} // namespace mp
