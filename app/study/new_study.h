#pragma once
// Making a new study without ever overwriting one. The CLI's `study create`, the GUI's New Study
// and its first-run "Start labeling" all come through here.
//
// A study file is created exclusively (O_EXCL): an existing file, even one another process made a
// moment ago, is refused and left untouched. A PostgreSQL connection string is created as
// StudyStore::open(location, true) does it.

#include <QString>

class QDate;

namespace mp {

class StudyStore;

// Creates the study at location and leaves it open in store. Throws InputError when the file
// exists or cannot be made (the message names it); a file made here and not opened is removed.
void createStudy(StudyStore &store, const QString &location);

// "study-2026-12-06.mpstudy" for number 1, "study-2026-12-06-2.mpstudy" for 2, ...
QString datedStudyName(const QDate &date, int number = 1);

// Makes dir (and its parents) if needed and creates the first study of datedStudyName(date, n),
// n = 1, 2, ..., whose file does not exist yet; leaves it open in store and returns its path.
QString createDatedStudy(StudyStore &store, const QString &dir, const QDate &date);

} // namespace mp
