#pragma once
// SkeletonView on Qt 3D: a Qt3DWindow inside a window container, one entity per joint (sphere)
// and per bone (cylinder) whose transforms follow the frame, a ground grid, the root trace,
// discs under planted feet, a key light, and a mouse-driven orbit camera:
//   left drag orbit, right or middle drag (or Shift + left) pan, wheel zoom, double-click reset.

#include "ml/motion/motion_clip.h"
#include "viewer/skeleton_geometry.h"
#include "viewer/skeleton_view.h"

#include <QObject>
#include <QPoint>
#include <QPointer>

#include <cstdint>
#include <vector>

class QDropEvent;
class QWindow;

namespace Qt3DCore {
class QEntity;
class QTransform;
} // namespace Qt3DCore
namespace Qt3DExtras {
class Qt3DWindow;
} // namespace Qt3DExtras
namespace Qt3DRender {
class QRenderCapture;
class QGeometryRenderer;
} // namespace Qt3DRender

namespace mp {

class Qt3DSkeletonView : public QObject, public SkeletonView {
    Q_OBJECT
public:
    explicit Qt3DSkeletonView(QWidget *parent = nullptr);
    ~Qt3DSkeletonView() override;

    QWidget *widget() override;
    void setMotion(const MotionClip &clip) override;
    void setFrame(int frame) override;
    int frame() const override { return m_frame; }
    void setFollowCamera(bool follow) override;
    bool followCamera() const override { return m_follow; }
    void resetCamera() override;
    void setShowTrajectory(bool show) override;
    bool showTrajectory() const override { return m_showTrajectory; }
    void setShowContacts(bool show) override;
    bool showContacts() const override { return m_showContacts; }
    QImage captureFrame(int timeoutMs = 5000) override;

    const OrbitCamera &camera() const { return m_orbit; }
    // The Qt3DWindow inside widget(), for tests that send it input.
    QWindow *window() const;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void buildScene();
    void rebuildMotionEntities();
    void updatePose();
    void applyCamera();
    QVector3D followTarget() const;
    QWidget *dropTarget() const;
    bool forwardDrop(QDropEvent *event);

    Qt3DExtras::Qt3DWindow *m_window = nullptr;
    QPointer<QWidget> m_container;
    Qt3DRender::QRenderCapture *m_capture = nullptr;
    bool m_captureFlipped = true;

    Qt3DCore::QEntity *m_root = nullptr;
    Qt3DCore::QEntity *m_motionRoot = nullptr; // everything that depends on the clip
    Qt3DCore::QEntity *m_traceEntity = nullptr;
    Qt3DCore::QEntity *m_contactRoot = nullptr;
    std::vector<Qt3DCore::QTransform *> m_jointTransforms;
    std::vector<Qt3DCore::QTransform *> m_boneTransforms; // one per joint with a parent
    std::vector<int> m_boneChild;
    std::vector<Qt3DCore::QEntity *> m_contactDiscs;
    std::vector<Qt3DCore::QTransform *> m_contactTransforms;

    MotionClip m_clip;
    bool m_drawable = false;
    MotionBounds m_bounds;
    std::vector<int> m_feet;
    std::vector<std::uint8_t> m_contacts;
    int m_rootJoint = 0;
    float m_scale = 1.0f; // body height / 1.7 m: sizes joints, bones, path and discs
    int m_frame = 0;

    OrbitCamera m_orbit;
    float m_homeYawDeg = 30.0f;
    bool m_atHome = true;     // false once the user orbits, pans or zooms
    QVector3D m_followOffset; // pans made while following
    bool m_follow = false;
    bool m_showTrajectory = true;
    bool m_showContacts = true;

    QPoint m_lastMouse;
    Qt::MouseButtons m_dragButtons;
    bool m_panDrag = false;
};

} // namespace mp
