#pragma once
// The transport under one or more viewports, bound to their shared PlaybackClock:
// play/pause, step back/forward, loop, a scrub slider, speed (0.25x to 2x) and a counter
// "12 / 80  0.55 s" (frame number from 1, time of that frame from 0).
// Keys: Space play/pause, Left/Right step, Home first frame. They are application-wide (the 3D
// views are native windows that take the focus) but live on the bar, so they act only while it
// is visible: a bar in a hidden tab never steals them. Text fields keep their own keys. Turn them
// off (setKeyboardShortcuts) where two bars are visible at once.

#include <QPointer>
#include <QWidget>

class QAction;
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

    void setKeyboardShortcuts(bool enabled);
    bool keyboardShortcuts() const;

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
    QList<QAction *> m_keyActions;
};

} // namespace mp
