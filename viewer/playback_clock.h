#pragma once
// One clock drives every viewport that shows motions side by side: play, pause, loop, scrub,
// speed and frame step. Time based, so a slow frame never slows the motion down.

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace mp {

class PlaybackClock : public QObject {
    Q_OBJECT
public:
    explicit PlaybackClock(QObject *parent = nullptr);

    int frameCount() const { return m_frameCount; }
    void setFrameCount(int frames);
    double fps() const { return m_fps; }
    void setFps(double fps);
    double speed() const { return m_speed; }
    void setSpeed(double speed);
    bool looping() const { return m_looping; }
    void setLooping(bool looping) { m_looping = looping; }
    bool isPlaying() const { return m_timer.isActive(); }
    int frame() const { return static_cast<int>(m_position); }

public slots:
    void play();
    void pause();
    void togglePlaying();
    void seek(int frame);
    void stepForward();
    void stepBackward();

signals:
    void frameChanged(int frame);
    void playingChanged(bool playing);
    void frameCountChanged(int frames);

private:
    void advance();
    void setPosition(double position);

    QTimer m_timer;
    QElapsedTimer m_sinceTick;
    double m_position = 0.0; // in frames, fractional between ticks
    int m_frameCount = 0;
    double m_fps = 20.0;
    double m_speed = 1.0;
    bool m_looping = true;
};

} // namespace mp
