#pragma once
// The Export panel: look at a motion (opened, dropped, or sent from another panel) and write it
// as BVH, FBX or .npy with units and frame rate, through the same motion_io the CLI's
// `motion convert` uses. Writing runs on a worker thread.

#include "app/export/motion_io.h"

#include <QFutureWatcher>
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;

namespace mp {

class MotionViewport;
class PlaybackBar;
class PlaybackClock;

class ExportPanel : public QWidget {
    Q_OBJECT
public:
    explicit ExportPanel(QWidget *parent = nullptr);
    ~ExportPanel() override;

    // Loads a motion file (.npy, .bvh); shows the error and returns false when it cannot.
    bool openMotion(const QString &path);
    // Shows a motion held by another panel (e.g. a generated sample) ready to export.
    void setMotion(const LoadedMotion &motion, const QString &title);
    bool hasMotion() const { return m_motion.has_value(); }

    MotionWriteOptions writeOptions() const;
    // Writes the motion to path (format from its extension) on a worker thread; exportFinished
    // reports the outcome. Returns false when there is nothing to export, or when an export is
    // still being written (that refusal is shown in the status line).
    bool exportTo(const QString &path);
    // From exportTo until exportFinished is emitted.
    bool isExporting() const { return m_exporting; }
    MotionViewport *viewport() const { return m_viewport; }

signals:
    void exportFinished(bool ok, const QString &message);

private:
    void chooseAndExport();
    void chooseAndOpen();
    void showStatus(const QString &text, bool error);
    void updateEnabled();

    std::optional<LoadedMotion> m_motion;
    PlaybackClock *m_clock = nullptr;
    MotionViewport *m_viewport = nullptr;
    PlaybackBar *m_bar = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_status = nullptr;
    QComboBox *m_format = nullptr;
    QComboBox *m_units = nullptr;
    QComboBox *m_npyContent = nullptr;
    QDoubleSpinBox *m_fps = nullptr;
    QPushButton *m_export = nullptr;
    QFutureWatcher<QString> m_writer; // "" on success, else the error
    // Set by exportTo, cleared by the finished slot: unlike m_writer.isRunning(), it stays set
    // until the outcome is reported, so a second export cannot re-arm the watcher in between.
    bool m_exporting = false;
    QString m_lastExportPath;
};

} // namespace mp
