#pragma once
// The transport under one or more viewports, bound to their shared PlaybackClock:
// play/pause, step back/forward, loop, a scrub slider, speed (0.25x to 2x) and a counter
// "12 / 80  0.55 s" (frame number from 1, time of that frame from 0).
// It registers no keyboard shortcuts: the 3D views take focus, so the owning panel binds
// application-wide ones to the clock's slots (togglePlaying, stepForward, ...).

#include <QPointer>
#include <QWidget>

class QComboBox;
class QLabel;
class QSlider;
class QToolButton;

namespace mp {

class PlaybackClock;

class PlaybackBar : public QWidget {
    Q_OBJECT
public:
    explicit PlaybackBar(QWidget *parent = nullptr);

    void setClock(PlaybackClock *clock);
    PlaybackClock *clock() const { return m_clock; }

    QString counterText() const;
    // The speed factors offered by the combo box, in order.
    static const QList<double> &speeds();

private:
    void syncAll();
    void syncFrame(int frame);
    void syncPlaying(bool playing);
    void syncSpeed(double speed);

    QPointer<PlaybackClock> m_clock;
    QToolButton *m_play = nullptr;
    QToolButton *m_back = nullptr;
    QToolButton *m_forward = nullptr;
    QToolButton *m_loop = nullptr;
    QSlider *m_slider = nullptr;
    QComboBox *m_speed = nullptr;
    QLabel *m_counter = nullptr;
};

} // namespace mp
