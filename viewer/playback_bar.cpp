#include "viewer/playback_bar.h"

#include "viewer/playback_clock.h"

#include <QAction>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QStyle>
#include <QToolButton>

#include <cmath>

namespace mp {

namespace {
QToolButton *makeButton(QWidget *parent, const char *name, QStyle::StandardPixmap icon,
                        const QString &tip)
{
    auto *button = new QToolButton(parent);
    button->setObjectName(QString::fromLatin1(name));
    button->setIcon(parent->style()->standardIcon(icon));
    button->setToolTip(tip);
    button->setStatusTip(tip);
    button->setAutoRaise(true);
    button->setFocusPolicy(Qt::NoFocus);
    return button;
}
} // namespace

const QList<double> &PlaybackBar::speeds()
{
    static const QList<double> kSpeeds = {0.25, 0.5, 0.75, 1.0, 1.5, 2.0};
    return kSpeeds;
}

PlaybackBar::PlaybackBar(QWidget *parent) : QWidget(parent)
{
    m_back = makeButton(this, "stepBackButton", QStyle::SP_MediaSeekBackward, tr("Previous frame"));
    m_play = makeButton(this, "playButton", QStyle::SP_MediaPlay, tr("Play / pause"));
    m_forward =
        makeButton(this, "stepForwardButton", QStyle::SP_MediaSeekForward, tr("Next frame"));
    m_loop = new QToolButton(this);
    m_loop->setObjectName(QStringLiteral("loopButton"));
    m_loop->setText(tr("Loop"));
    m_loop->setCheckable(true);
    m_loop->setAutoRaise(true);
    m_loop->setFocusPolicy(Qt::NoFocus);
    m_loop->setToolTip(tr("Start again at the end"));

    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setObjectName(QStringLiteral("scrubSlider"));
    m_slider->setToolTip(tr("Scrub"));
    m_slider->setFocusPolicy(Qt::NoFocus);

    m_speed = new QComboBox(this);
    m_speed->setObjectName(QStringLiteral("speedCombo"));
    m_speed->setToolTip(tr("Playback speed"));
    m_speed->setFocusPolicy(Qt::NoFocus);
    for (double speed : speeds())
        m_speed->addItem(QStringLiteral("%1x").arg(speed), speed);

    m_counter = new QLabel(this);
    m_counter->setObjectName(QStringLiteral("frameCounter"));
    m_counter->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    // Room for "9999 / 9999  999.99 s" so the layout does not jump while playing.
    m_counter->setMinimumWidth(
        m_counter->fontMetrics().horizontalAdvance(QStringLiteral("9999 / 9999  999.99 s")));

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->setSpacing(4);
    layout->addWidget(m_back);
    layout->addWidget(m_play);
    layout->addWidget(m_forward);
    layout->addWidget(m_loop);
    layout->addWidget(m_slider, 1);
    layout->addWidget(m_counter);
    layout->addWidget(m_speed);

    connect(m_play, &QToolButton::clicked, this, [this] {
        if (m_clock)
            m_clock->togglePlaying();
    });
    connect(m_back, &QToolButton::clicked, this, [this] {
        if (m_clock)
            m_clock->stepBackward();
    });
    connect(m_forward, &QToolButton::clicked, this, [this] {
        if (m_clock)
            m_clock->stepForward();
    });
    connect(m_loop, &QToolButton::toggled, this, [this](bool on) {
        if (m_clock)
            m_clock->setLooping(on);
    });
    connect(m_slider, &QSlider::valueChanged, this, [this](int value) {
        if (m_clock)
            m_clock->seek(value);
    });
    connect(m_speed, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (m_clock && index >= 0)
            m_clock->setSpeed(m_speed->itemData(index).toDouble());
    });
    const auto addKey = [this](const QKeySequence &key, const QString &text, auto slot) {
        auto *action = new QAction(text, this);
        action->setShortcut(key);
        action->setShortcutContext(Qt::ApplicationShortcut);
        connect(action, &QAction::triggered, this, [this, slot] {
            if (m_clock)
                (m_clock.data()->*slot)();
        });
        addAction(action);
        m_keyActions << action;
    };
    addKey(QKeySequence(Qt::Key_Space), tr("Play / pause"), &PlaybackClock::togglePlaying);
    addKey(QKeySequence(Qt::Key_Left), tr("Previous frame"), &PlaybackClock::stepBackward);
    addKey(QKeySequence(Qt::Key_Right), tr("Next frame"), &PlaybackClock::stepForward);
    addKey(QKeySequence(Qt::Key_Home), tr("First frame"), &PlaybackClock::seekToStart);
    m_play->setToolTip(tr("Play / pause (Space)"));
    m_back->setToolTip(tr("Previous frame (Left)"));
    m_forward->setToolTip(tr("Next frame (Right)"));
    syncAll();
}

void PlaybackBar::setKeyboardShortcuts(bool enabled)
{
    for (QAction *action : m_keyActions)
        action->setEnabled(enabled);
}

bool PlaybackBar::keyboardShortcuts() const
{
    return !m_keyActions.isEmpty() && m_keyActions.first()->isEnabled();
}

void PlaybackBar::setClock(PlaybackClock *clock)
{
    if (clock == m_clock)
        return;
    if (m_clock)
        disconnect(m_clock, nullptr, this, nullptr);
    m_clock = clock;
    if (m_clock) {
        connect(m_clock, &PlaybackClock::frameChanged, this, &PlaybackBar::syncFrame);
        connect(m_clock, &PlaybackClock::playingChanged, this, &PlaybackBar::syncPlaying);
        connect(m_clock, &PlaybackClock::speedChanged, this, &PlaybackBar::syncSpeed);
        connect(m_clock, &PlaybackClock::loopingChanged, m_loop, [this](bool on) {
            const QSignalBlocker block(m_loop);
            m_loop->setChecked(on);
        });
        connect(m_clock, &PlaybackClock::frameCountChanged, this, &PlaybackBar::syncAll);
        connect(m_clock, &PlaybackClock::fpsChanged, this, &PlaybackBar::syncAll);
    }
    syncAll();
}

void PlaybackBar::syncAll()
{
    const int frames = m_clock ? m_clock->frameCount() : 0;
    for (QWidget *w : std::initializer_list<QWidget *>{m_play, m_back, m_forward, m_slider})
        w->setEnabled(frames > 1);
    {
        const QSignalBlocker block(m_slider);
        m_slider->setRange(0, std::max(0, frames - 1));
        m_slider->setPageStep(std::max(1, frames / 10));
    }
    {
        const QSignalBlocker block(m_loop);
        m_loop->setChecked(m_clock ? m_clock->looping() : true);
    }
    syncSpeed(m_clock ? m_clock->speed() : 1.0);
    syncPlaying(m_clock && m_clock->isPlaying());
    syncFrame(m_clock ? m_clock->frame() : 0);
}

void PlaybackBar::syncFrame(int frame)
{
    {
        const QSignalBlocker block(m_slider);
        m_slider->setValue(frame);
    }
    m_counter->setText(counterText());
}

void PlaybackBar::syncPlaying(bool playing)
{
    m_play->setIcon(style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    m_play->setToolTip(playing ? tr("Pause (Space)") : tr("Play (Space)"));
}

void PlaybackBar::syncSpeed(double speed)
{
    int best = 0;
    for (int i = 1; i < speeds().size(); ++i) {
        if (std::abs(speeds()[i] - speed) < std::abs(speeds()[best] - speed))
            best = i;
    }
    const QSignalBlocker block(m_speed);
    m_speed->setCurrentIndex(best);
}

QString PlaybackBar::counterText() const
{
    if (!m_clock || m_clock->frameCount() == 0)
        return QStringLiteral("0 / 0  0.00 s");
    return QStringLiteral("%1 / %2  %3 s")
        .arg(m_clock->frame() + 1)
        .arg(m_clock->frameCount())
        .arg(m_clock->timeS(), 0, 'f', 2);
}

} // namespace mp
