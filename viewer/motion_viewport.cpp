#include "viewer/motion_viewport.h"

#include "viewer/playback_clock.h"
#include "viewer/skeleton_geometry.h"
#include "viewer/skeleton_style.h"
#include "viewer/skeleton_view.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QStackedWidget>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

namespace mp {

namespace {
const QString kEmptyMessage = QStringLiteral("No motion to show.\nDrop a .bvh or .npy file here.");

QString legendHtml()
{
    const auto swatch = [](BodySide side, const char *name) {
        return QStringLiteral("<span style=\"color:%1\">&#9632;</span>&nbsp;%2")
            .arg(sideColor(side).name(), QString::fromLatin1(name));
    };
    return swatch(BodySide::Left, "left") + QStringLiteral("&nbsp;&nbsp;") +
           swatch(BodySide::Right, "right");
}

QToolButton *makeToggle(QWidget *parent, const QString &text, const QString &tip, bool checked)
{
    auto *button = new QToolButton(parent);
    button->setText(text);
    button->setToolTip(tip);
    button->setStatusTip(tip);
    button->setCheckable(checked);
    button->setAutoRaise(true);
    button->setFocusPolicy(Qt::NoFocus);
    return button;
}
} // namespace

MotionViewport::MotionViewport(QWidget *parent) : QWidget(parent)
{
    setAcceptDrops(true);

    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("viewportTitle"));
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);

    m_legend = new QLabel(legendHtml(), this);
    m_legend->setObjectName(QStringLiteral("sideLegend"));
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setToolTip(tr("Left side of the body in orange, right side in blue, spine and head "
                            "in grey. Green discs: planted feet. Purple line: root path."));

    m_follow = makeToggle(this, tr("Follow"), tr("Keep the body centred while it moves"), true);
    m_trace = makeToggle(this, tr("Path"), tr("Show the root's path on the floor"), true);
    m_contacts = makeToggle(this, tr("Contacts"), tr("Mark feet planted on the floor"), true);
    m_reset = makeToggle(this, tr("Reset view"),
                         tr("Frame the whole motion again (or double-click the view)"), false);
    m_follow->setObjectName(QStringLiteral("followToggle"));
    m_trace->setObjectName(QStringLiteral("pathToggle"));
    m_contacts->setObjectName(QStringLiteral("contactsToggle"));
    m_reset->setObjectName(QStringLiteral("resetViewButton"));

    auto *caption = new QHBoxLayout;
    caption->setContentsMargins(4, 0, 4, 0);
    caption->setSpacing(6);
    caption->addWidget(m_title);
    caption->addSpacing(8);
    caption->addWidget(m_legend);
    caption->addStretch(1);
    for (QToolButton *button : {m_follow, m_trace, m_contacts, m_reset})
        caption->addWidget(button);

    m_view = createSkeletonView(this);
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("viewportMessage"));
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setAutoFillBackground(true);
    QPalette palette = m_message->palette();
    palette.setColor(QPalette::Window, viewBackgroundColor());
    palette.setColor(QPalette::WindowText, QColor(0xC8, 0xCC, 0xD2));
    m_message->setPalette(palette);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_view->widget());
    m_stack->addWidget(m_message);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(caption);
    layout->addWidget(m_stack, 1);

    m_trace->setChecked(m_view->showTrajectory());
    m_contacts->setChecked(m_view->showContacts());
    connect(m_follow, &QToolButton::toggled, this, &MotionViewport::setFollowCamera);
    connect(m_trace, &QToolButton::toggled, this, &MotionViewport::setShowTrajectory);
    connect(m_contacts, &QToolButton::toggled, this, &MotionViewport::setShowContacts);
    connect(m_reset, &QToolButton::clicked, this, &MotionViewport::resetCamera);

    setMotion(MotionClip{});
}

MotionViewport::~MotionViewport()
{
    if (m_clock)
        m_clock->setFrameCountFor(this, 0);
}

void MotionViewport::setTitle(const QString &title)
{
    m_title->setText(title);
}

QString MotionViewport::title() const
{
    return m_title->text();
}

void MotionViewport::setClock(PlaybackClock *clock)
{
    if (clock == m_clock)
        return;
    if (m_clock) {
        disconnect(m_clock, nullptr, this, nullptr);
        m_clock->setFrameCountFor(this, 0);
    }
    m_clock = clock;
    if (!m_clock)
        return;
    connect(m_clock, &PlaybackClock::frameChanged, this, &MotionViewport::setFrame);
    if (hasMotion()) {
        m_clock->setFps(m_clip.fps);
        m_clock->setFrameCountFor(this, m_clip.numFrames);
    }
    setFrame(m_clock->frame());
}

void MotionViewport::setMotion(const MotionClip &clip)
{
    const bool drawable = isDrawable(clip);
    m_clip = drawable ? clip : MotionClip{};
    m_view->setMotion(m_clip);
    for (QToolButton *button : {m_follow, m_trace, m_contacts, m_reset})
        button->setEnabled(drawable);
    if (!drawable) {
        showMessage(clip.empty() ? kEmptyMessage
                                 : tr("Cannot show this motion: its joint data is inconsistent "
                                      "(%1 frames, %2 joints).")
                                       .arg(clip.numFrames)
                                       .arg(clip.numJoints));
    } else {
        m_stack->setCurrentWidget(m_view->widget());
    }
    if (m_clock) {
        if (hasMotion())
            m_clock->setFps(m_clip.fps);
        m_clock->setFrameCountFor(this, m_clip.numFrames);
        setFrame(m_clock->frame());
    }
}

void MotionViewport::clearMotion()
{
    setMotion(MotionClip{});
}

void MotionViewport::showMessage(const QString &text)
{
    m_message->setText(text);
    m_stack->setCurrentWidget(m_message);
}

QString MotionViewport::message() const
{
    return isShowingMessage() ? m_message->text() : QString();
}

bool MotionViewport::isShowingMessage() const
{
    return m_stack->currentWidget() == m_message;
}

int MotionViewport::frame() const
{
    return m_view->frame();
}

void MotionViewport::setFrame(int frame)
{
    m_view->setFrame(frame);
}

void MotionViewport::setFollowCamera(bool follow)
{
    m_view->setFollowCamera(follow);
    m_follow->setChecked(follow);
}

void MotionViewport::resetCamera()
{
    m_view->resetCamera();
}

void MotionViewport::setShowTrajectory(bool show)
{
    m_view->setShowTrajectory(show);
    m_trace->setChecked(show);
}

void MotionViewport::setShowContacts(bool show)
{
    m_view->setShowContacts(show);
    m_contacts->setChecked(show);
}

bool MotionViewport::isMotionFile(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == QLatin1String("bvh") || suffix == QLatin1String("npy");
}

QString MotionViewport::droppableFile(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl &url : mime->urls()) {
        if (url.isLocalFile() && isMotionFile(url.toLocalFile()))
            return url.toLocalFile();
    }
    return {};
}

void MotionViewport::dragEnterEvent(QDragEnterEvent *event)
{
    if (!droppableFile(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MotionViewport::dragMoveEvent(QDragMoveEvent *event)
{
    if (!droppableFile(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MotionViewport::dropEvent(QDropEvent *event)
{
    const QString path = droppableFile(event->mimeData());
    if (path.isEmpty())
        return;
    event->acceptProposedAction();
    emit fileDropped(path);
}

} // namespace mp
