#include "app/study/new_study.h"

#include "app/study/study_store.h"
#include "ml/core/error.h"

#include <QDate>
#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace mp {

namespace {

// Creates location as an empty file, failing when it exists (QIODevice::NewOnly is O_EXCL).
// Returns false only when it exists; throws for any other failure.
bool makeEmptyFile(const QString &location)
{
    QFile file(location);
    if (file.open(QIODevice::WriteOnly | QIODevice::NewOnly))
        return true;
    if (QFileInfo::exists(location))
        return false;
    throw InputError(location.toStdString() +
                     ": cannot create the study: " + file.errorString().toStdString());
}

// Opens the empty file just made as a new study (SQLite takes an empty file as a new database);
// removes it again if that fails, so nothing half-made is left.
void openNewFile(StudyStore &store, const QString &location)
{
    try {
        store.open(location, true);
    } catch (...) {
        if (QFileInfo(location).size() == 0)
            QFile::remove(location);
        throw;
    }
}

} // namespace

void createStudy(StudyStore &store, const QString &location)
{
    if (StudyStore::isConnectionString(location)) {
        store.open(location, true);
        return;
    }
    if (!makeEmptyFile(location))
        throw InputError(location.toStdString() +
                         ": exists already; a new study needs a new file (a study is never "
                         "overwritten)");
    openNewFile(store, location);
}

QString datedStudyName(const QDate &date, int number)
{
    const QString day = date.toString(Qt::ISODate);
    return number <= 1 ? QStringLiteral("study-%1.mpstudy").arg(day)
                       : QStringLiteral("study-%1-%2.mpstudy").arg(day).arg(number);
}

QString createDatedStudy(StudyStore &store, const QString &dir, const QDate &date)
{
    if (!QDir().mkpath(dir))
        throw InputError(dir.toStdString() + ": cannot make the folder for new studies");
    // A bound keeps a folder that refuses every name (read-only, say) from looping forever.
    constexpr int kMaxPerDay = 1000;
    for (int number = 1; number <= kMaxPerDay; ++number) {
        const QString location = QDir(dir).filePath(datedStudyName(date, number));
        if (!makeEmptyFile(location))
            continue;
        openNewFile(store, location);
        return location;
    }
    throw InputError(dir.toStdString() + ": already holds " + std::to_string(kMaxPerDay) +
                     " studies of " + date.toString(Qt::ISODate).toStdString());
}

} // namespace mp
