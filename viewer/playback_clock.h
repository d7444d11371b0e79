#pragma once
// One clock drives every viewport that shows motions side by side: play, pause, loop, scrub,
// speed and frame step. Time based, so a slow frame never slows the motion down.
// Viewports showing clips of different lengths each report theirs (setFrameCountFor); the clock
// runs to the longest and the shorter ones hold their last frame.

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <map>

namespace mp {

class PlaybackClock : public QObject {
    Q_OBJECT
public:
    explicit PlaybackClock(QObject *parent = nullptr);

    int frameCount() const { return m_frameCount; }
    void setFrameCount(int frames);
    // The frame count becomes the largest of those reported; a source's entry goes when it is
    // destroyed or reports 0.
    void setFrameCountFor(const QObject *source, int frames);
    double fps() const { return m_fps; }
    void setFps(double fps);
    double speed() const { return m_speed; }
    bool looping() const { return m_looping; }
    bool isPlaying() const { return m_timer.isActive(); }
    int frame() const { return static_cast<int>(m_position); }
    double timeS() const { return frame() / m_fps; }

public slots:
    void setSpeed(double speed);
    void setLooping(bool looping);
    void play();
    void pause();
    void togglePlaying();
    void seek(int frame);
    void seekToStart() { seek(0); }
    void stepForward();
    void stepBackward();

signals:
    void frameChanged(int frame);
    void playingChanged(bool playing);
    void frameCountChanged(int frames);
    void speedChanged(double speed);
    void loopingChanged(bool looping);
    void fpsChanged(double fps);

private:
    void advance();
    void setPosition(double position);
    void applySourceFrameCounts();

    QTimer m_timer;
    QElapsedTimer m_sinceTick;
    double m_position = 0.0; // in frames, fractional between ticks
    int m_frameCount = 0;
    double m_fps = 20.0;
    double m_speed = 1.0;
    bool m_looping = true;
    std::map<const QObject *, int> m_sourceFrames;
};

} // namespace mp
