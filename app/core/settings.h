#pragma once
// One typed settings class over QSettings: every key has a name and a default here, nowhere else.

#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>

namespace mp {

class Settings {
public:
    Settings(); // the application's QSettings (organisation/application names set in main)
    explicit Settings(const QString &iniFile); // for tests

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray &geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray &state);
    int currentPanel() const; // default 0 (Label)
    void setCurrentPanel(int index);

    QString labelerName() const; // default: the login name
    void setLabelerName(const QString &name);
    QString lastStudyPath() const; // default empty: no study opened yet
    // Also puts the study first in recentStudies().
    void setLastStudyPath(const QString &path);
    // The studies opened last, newest first, at most kMaxRecentStudies; default empty.
    QStringList recentStudies() const;
    void removeRecentStudy(const QString &path);
    static constexpr int kMaxRecentStudies = 8;
    // Where "Start labeling" makes its dated studies; default: "studies" in the user's data
    // directory (QStandardPaths::AppDataLocation, e.g. ~/.local/share/MotionPref/MotionPref
    // Studio/studies; $XDG_DATA_HOME moves it).
    QString newStudyDir() const;
    void setNewStudyDir(const QString &dir);
    QString modelDir() const; // default: the embedded default bundle
    void setModelDir(const QString &dir);
    QString device() const; // "auto", "cpu" or "cuda"; default "auto"
    void setDevice(const QString &device);
    // The HumanML3D-layout dataset the user last evaluated on (e.g. the corpus); default empty.
    QString corpusDir() const;
    void setCorpusDir(const QString &dir);

    void sync() { m_settings.sync(); }

private:
    QSettings m_settings;
};

// How the GUI names a model bundle directory, never by its path: "embedded default" for the
// bundle shipped with the program (defaultModelDir()), else the directory's name; "none" when
// dir is empty.
QString modelDisplayName(const QString &dir);

} // namespace mp
