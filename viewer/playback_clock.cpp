#include "viewer/playback_clock.h"

#include <algorithm>
#include <cmath>

namespace mp {

namespace {
constexpr int kTickMs = 15; // about 60 Hz redraw; motions are 20 fps, so frames are never skipped
}

PlaybackClock::PlaybackClock(QObject *parent) : QObject(parent)
{
    m_timer.setInterval(kTickMs);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &PlaybackClock::advance);
}

void PlaybackClock::setFrameCount(int frames)
{
    frames = std::max(0, frames);
    if (frames == m_frameCount)
        return;
    m_frameCount = frames;
    emit frameCountChanged(frames);
    if (m_position >= frames)
        setPosition(0);
    if (frames <= 1)
        pause();
}

void PlaybackClock::setFrameCountFor(const QObject *source, int frames)
{
    if (!source)
        return;
    const bool known = m_sourceFrames.count(source) > 0;
    if (frames > 0) {
        m_sourceFrames[source] = frames;
        if (!known) {
            connect(source, &QObject::destroyed, this, [this, source] {
                m_sourceFrames.erase(source);
                applySourceFrameCounts();
            });
        }
    } else if (known) {
        m_sourceFrames.erase(source);
        disconnect(source, &QObject::destroyed, this, nullptr);
    }
    applySourceFrameCounts();
}

void PlaybackClock::applySourceFrameCounts()
{
    int longest = 0;
    for (const auto &[source, frames] : m_sourceFrames)
        longest = std::max(longest, frames);
    setFrameCount(longest);
}

void PlaybackClock::setFps(double fps)
{
    fps = fps > 0 ? fps : 20.0;
    if (fps == m_fps)
        return;
    m_fps = fps;
    emit fpsChanged(fps);
}

void PlaybackClock::setSpeed(double speed)
{
    speed = std::clamp(speed, 0.05, 8.0);
    if (speed == m_speed)
        return;
    m_speed = speed;
    emit speedChanged(speed);
}

void PlaybackClock::setLooping(bool looping)
{
    if (looping == m_looping)
        return;
    m_looping = looping;
    emit loopingChanged(looping);
}

void PlaybackClock::play()
{
    if (m_frameCount <= 1 || isPlaying())
        return;
    if (!m_looping && frame() >= m_frameCount - 1)
        setPosition(0);
    m_sinceTick.start();
    m_timer.start();
    emit playingChanged(true);
}

void PlaybackClock::pause()
{
    if (!isPlaying())
        return;
    m_timer.stop();
    emit playingChanged(false);
}

void PlaybackClock::togglePlaying()
{
    isPlaying() ? pause() : play();
}

void PlaybackClock::seek(int frame)
{
    if (m_frameCount == 0)
        return;
    setPosition(std::clamp(frame, 0, m_frameCount - 1));
}

void PlaybackClock::stepForward()
{
    pause();
    if (m_frameCount > 0)
        setPosition(m_looping ? (frame() + 1) % m_frameCount
                              : std::min(frame() + 1, m_frameCount - 1));
}

void PlaybackClock::stepBackward()
{
    pause();
    if (m_frameCount > 0)
        setPosition(m_looping ? (frame() - 1 + m_frameCount) % m_frameCount
                              : std::max(frame() - 1, 0));
}

void PlaybackClock::advance()
{
    const double elapsedS = m_sinceTick.restart() / 1000.0;
    double next = m_position + elapsedS * m_fps * m_speed;
    if (next >= m_frameCount) {
        if (m_looping) {
            next = std::fmod(next, static_cast<double>(m_frameCount));
        } else {
            setPosition(m_frameCount - 1);
            pause();
            return;
        }
    }
    setPosition(next);
}

void PlaybackClock::setPosition(double position)
{
    const int before = frame();
    m_position = position;
    if (frame() != before)
        emit frameChanged(frame());
}

} // namespace mp
