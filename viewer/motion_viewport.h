#pragma once
// A viewport for one motion: a caption row (title, a left/right colour legend, camera toggles)
// above a SkeletonView, or a plain message when there is nothing to show. Follows a
// PlaybackClock shared with other viewports, and accepts dropped .bvh/.npy files by announcing
// them (fileDropped): loading is the owner's business.

#include "ml/motion/motion_clip.h"
#include "viewer/playback_clock.h" // QPointer<PlaybackClock> needs the complete type

#include <QPointer>
#include <QWidget>

#include <memory>

class QLabel;
class QMimeData;
class QStackedWidget;
class QToolButton;

namespace mp {

class SkeletonView;

class MotionViewport : public QWidget {
    Q_OBJECT
public:
    explicit MotionViewport(QWidget *parent = nullptr);
    ~MotionViewport() override;

    void setTitle(const QString &title);
    QString title() const;

    // Follows the clock's frame and reports this motion's length to it; nullptr detaches.
    void setClock(PlaybackClock *clock);
    PlaybackClock *clock() const { return m_clock; }

    // An empty or inconsistent clip (see isDrawable) shows a message instead of the 3D view.
    void setMotion(const MotionClip &clip);
    void clearMotion();
    const MotionClip &motion() const { return m_clip; }
    bool hasMotion() const { return !m_clip.empty(); }
    // Replaces the 3D view by a centred message ("Generating...") until the next setMotion.
    void showMessage(const QString &text);
    QString message() const;
    bool isShowingMessage() const;

    int frame() const;
    SkeletonView *view() const { return m_view.get(); }

    static bool isMotionFile(const QString &path);

public slots:
    void setFrame(int frame);
    void setFollowCamera(bool follow);
    void resetCamera();
    void setShowTrajectory(bool show);
    void setShowContacts(bool show);

signals:
    void fileDropped(const QString &path);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    static QString droppableFile(const QMimeData *mime);

    std::unique_ptr<SkeletonView> m_view;
    QPointer<PlaybackClock> m_clock;
    MotionClip m_clip;
    QLabel *m_title = nullptr;
    QLabel *m_legend = nullptr;
    QLabel *m_message = nullptr;
    QStackedWidget *m_stack = nullptr;
    QToolButton *m_follow = nullptr;
    QToolButton *m_trace = nullptr;
    QToolButton *m_contacts = nullptr;
    QToolButton *m_reset = nullptr;
};

} // namespace mp
