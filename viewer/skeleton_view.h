#pragma once
// The rendering interface of a skeleton viewport. Panels and MotionViewport talk to this only,
// so the Qt 3D implementation (Qt 3D is deprecated after Qt 6.8) can be swapped for a
// QOpenGLWidget or Qt Quick 3D one by changing createSkeletonView() alone.

#include <QImage>

#include <memory>

class QWidget;

namespace mp {

struct MotionClip;

class SkeletonView {
public:
    virtual ~SkeletonView() = default;

    // The widget to put in a layout; the view keeps it alive and deletes it when destroyed,
    // unless a Qt parent deleted it first.
    virtual QWidget *widget() = 0;

    // Copies the clip. An empty or inconsistent clip shows only the floor.
    virtual void setMotion(const MotionClip &clip) = 0;
    // Frames past the clip's end show its last frame (clips of several lengths on one clock).
    virtual void setFrame(int frame) = 0;
    virtual int frame() const = 0;

    // Keeps the root joint in the middle of the view while the motion travels.
    virtual void setFollowCamera(bool follow) = 0;
    virtual bool followCamera() const = 0;
    // Back to the framing chosen when the motion was set: the whole motion in view, from the
    // front-right and a little above.
    virtual void resetCamera() = 0;
    virtual void setShowTrajectory(bool show) = 0;
    virtual bool showTrajectory() const = 0;
    virtual void setShowContacts(bool show) = 0;
    virtual bool showContacts() const = 0;

    // The rendered frame, upright, at the widget's size in device pixels; a null image when no
    // frame arrived within the timeout (a hidden window renders nothing). Spins the event loop.
    virtual QImage captureFrame(int timeoutMs = 5000) = 0;
};

// The renderer used by MotionViewport (Qt 3D today).
std::unique_ptr<SkeletonView> createSkeletonView(QWidget *parent = nullptr);

} // namespace mp
