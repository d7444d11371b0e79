#pragma once
// Reading a JSON file whose root is an object, with errors that name the file and the problem.

#include <QJsonObject>
#include <QString>

namespace mp {

// Throws mp::InputError "PATH: PROBLEM" when the file cannot be read, is not valid JSON (with the
// byte offset) or its root is not an object; `expected` words that last case ("a JSON object of
// metrics").
QJsonObject readJsonObjectFile(const QString &path,
                               const QString &expected = QStringLiteral("a JSON object"));

} // namespace mp
