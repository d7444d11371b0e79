#include "app/core/json_file.h"

#include "ml/core/error.h"

#include <QFile>
#include <QJsonDocument>

namespace mp {

namespace {
[[noreturn]] void fail(const QString &path, const QString &problem)
{
    throw InputError((path + QStringLiteral(": ") + problem).toStdString());
}
} // namespace

QJsonObject readJsonObjectFile(const QString &path, const QString &expected)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        fail(path, file.errorString());
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError)
        fail(path, QStringLiteral("invalid JSON at offset %1: %2")
                       .arg(error.offset)
                       .arg(error.errorString()));
    if (!document.isObject())
        fail(path, QStringLiteral("expected ") + expected);
    return document.object();
}

} // namespace mp
