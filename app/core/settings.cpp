#include "app/core/settings.h"

#include "ml/core/paths.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QtGlobal>

namespace mp {

namespace {
const char *const kGeometry = "window/geometry";
const char *const kState = "window/state";
const char *const kPanel = "window/panel";
const char *const kLabeler = "label/labeler";
const char *const kStudy = "study/last";
const char *const kRecentStudies = "study/recent";
const char *const kNewStudyDir = "study/newStudyDir";
const char *const kModelDir = "model/dir";
const char *const kDevice = "compute/device";
const char *const kCorpusDir = "data/corpusDir";

QString loginName()
{
    const QString user = qEnvironmentVariable("USER", qEnvironmentVariable("USERNAME"));
    return user.isEmpty() ? QStringLiteral("labeler") : user;
}
} // namespace

Settings::Settings() = default;

Settings::Settings(const QString &iniFile) : m_settings(iniFile, QSettings::IniFormat)
{
}

QByteArray Settings::windowGeometry() const
{
    return m_settings.value(kGeometry).toByteArray();
}
void Settings::setWindowGeometry(const QByteArray &geometry)
{
    m_settings.setValue(kGeometry, geometry);
}
QByteArray Settings::windowState() const
{
    return m_settings.value(kState).toByteArray();
}
void Settings::setWindowState(const QByteArray &state)
{
    m_settings.setValue(kState, state);
}
int Settings::currentPanel() const
{
    return m_settings.value(kPanel, 0).toInt();
}
void Settings::setCurrentPanel(int index)
{
    m_settings.setValue(kPanel, index);
}

QString Settings::labelerName() const
{
    return m_settings.value(kLabeler, loginName()).toString();
}
void Settings::setLabelerName(const QString &name)
{
    m_settings.setValue(kLabeler, name);
}
QString Settings::lastStudyPath() const
{
    return m_settings.value(kStudy).toString();
}
void Settings::setLastStudyPath(const QString &path)
{
    m_settings.setValue(kStudy, path);
    QStringList recent = recentStudies();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecentStudies)
        recent.removeLast();
    m_settings.setValue(kRecentStudies, recent);
}
QStringList Settings::recentStudies() const
{
    return m_settings.value(kRecentStudies).toStringList();
}
void Settings::removeRecentStudy(const QString &path)
{
    QStringList recent = recentStudies();
    recent.removeAll(path);
    m_settings.setValue(kRecentStudies, recent);
}

QString Settings::newStudyDir() const
{
    const QString value = m_settings.value(kNewStudyDir).toString();
    if (!value.isEmpty())
        return value;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("studies"));
}
void Settings::setNewStudyDir(const QString &dir)
{
    m_settings.setValue(kNewStudyDir, dir);
}

QString Settings::modelDir() const
{
    return m_settings.value(kModelDir, QString::fromStdString(defaultModelDir().string()))
        .toString();
}
void Settings::setModelDir(const QString &dir)
{
    m_settings.setValue(kModelDir, dir);
}
QString Settings::device() const
{
    return m_settings.value(kDevice, QStringLiteral("auto")).toString();
}
void Settings::setDevice(const QString &device)
{
    m_settings.setValue(kDevice, device);
}
QString Settings::corpusDir() const
{
    return m_settings.value(kCorpusDir).toString();
}
void Settings::setCorpusDir(const QString &dir)
{
    m_settings.setValue(kCorpusDir, dir);
}

QString modelDisplayName(const QString &dir)
{
    if (dir.isEmpty())
        return QStringLiteral("none");
    const QFileInfo info(dir);
    const QFileInfo embedded(QString::fromStdString(defaultModelDir().string()));
    if (info.absoluteFilePath() == embedded.absoluteFilePath() ||
        (info.exists() && info.canonicalFilePath() == embedded.canonicalFilePath()))
        return QStringLiteral("embedded default");
    return QDir(dir).dirName();
}

} // namespace mp
