#include "viewer/qt3d_skeleton_view.h"

#include "viewer/skeleton_style.h"

#include <Qt3DCore/QAttribute>
#include <Qt3DCore/QBuffer>
#include <Qt3DCore/QEntity>
#include <Qt3DCore/QGeometry>
#include <Qt3DCore/QTransform>
#include <Qt3DExtras/QCylinderMesh>
#include <Qt3DExtras/QForwardRenderer>
#include <Qt3DExtras/QPerVertexColorMaterial>
#include <Qt3DExtras/QPhongMaterial>
#include <Qt3DExtras/QSphereMesh>
#include <Qt3DExtras/Qt3DWindow>
#include <Qt3DRender/QCamera>
#include <Qt3DRender/QDirectionalLight>
#include <Qt3DRender/QGeometryRenderer>
#include <Qt3DRender/QRenderCapture>
#include <Qt3DRender/QRenderSettings>

#include <QCoreApplication>
#include <QDropEvent>
#include <QEventLoop>
#include <QMouseEvent>
#include <QTimer>
#include <QWheelEvent>
#include <QWidget>

#include <algorithm>
#include <cstring>

namespace mp {

namespace {
// Sizes for a 1.7 m body; scaled with the clip's body height so a 5-joint toy or a BVH in
// centimetres still looks like a stick figure.
constexpr float kReferenceHeightM = 1.7f;
constexpr float kJointRadiusM = 0.034f;
constexpr float kBoneRadiusM = 0.022f;
constexpr float kTraceWidthM = 0.025f;
constexpr float kDiscRadiusM = 0.08f;
constexpr float kDiscThicknessM = 0.004f;
constexpr float kTraceLiftM = 0.003f; // above the grid lines
constexpr float kDiscLiftM = 0.006f;  // above the grid and the trace: no z-fighting
constexpr float kHomePitchDeg = 18.0f;
constexpr float kFovDeg = 40.0f;
// Room around the joint centres for the spheres themselves and a little air.
constexpr float kFrameMargin = 1.15f;

QColor scaled(const QColor &color, float factor)
{
    return QColor::fromRgbF(std::min(1.0f, float(color.redF()) * factor),
                            std::min(1.0f, float(color.greenF()) * factor),
                            std::min(1.0f, float(color.blueF()) * factor));
}

// Unlit coloured primitives (lines, a triangle strip) from points and one colour per point.
Qt3DCore::QEntity *makeUnlit(Qt3DCore::QEntity *parent, const std::vector<QVector3D> &points,
                             const std::vector<QColor> &colors,
                             Qt3DRender::QGeometryRenderer::PrimitiveType type)
{
    auto *entity = new Qt3DCore::QEntity(parent);
    auto *geometry = new Qt3DCore::QGeometry(entity);
    // Position, colour and a normal: QPerVertexColorMaterial's shader reads vertexNormal, and
    // without the attribute the RHI backend fetched it from no buffer (llvmpipe crashed reading
    // near address 0 once scenes were rebuilt a few times, as the Label panel does).
    constexpr int kFloatsPerVertex = 9;
    QByteArray bytes(static_cast<qsizetype>(points.size() * kFloatsPerVertex * sizeof(float)),
                     Qt::Uninitialized);
    auto *out = reinterpret_cast<float *>(bytes.data());
    for (std::size_t i = 0; i < points.size(); ++i) {
        const QColor &c = colors[std::min(i, colors.size() - 1)];
        const float vertex[kFloatsPerVertex] = {points[i].x(),
                                                points[i].y(),
                                                points[i].z(),
                                                float(c.redF()),
                                                float(c.greenF()),
                                                float(c.blueF()),
                                                0.0f,
                                                1.0f,
                                                0.0f};
        std::memcpy(out + i * kFloatsPerVertex, vertex, sizeof(vertex));
    }
    auto *buffer = new Qt3DCore::QBuffer(geometry);
    buffer->setData(bytes);

    const auto addAttribute = [&](const QString &name, uint offset) {
        auto *attribute = new Qt3DCore::QAttribute(geometry);
        attribute->setName(name);
        attribute->setAttributeType(Qt3DCore::QAttribute::VertexAttribute);
        attribute->setVertexBaseType(Qt3DCore::QAttribute::Float);
        attribute->setVertexSize(3);
        attribute->setBuffer(buffer);
        attribute->setByteStride(kFloatsPerVertex * sizeof(float));
        attribute->setByteOffset(offset);
        attribute->setCount(static_cast<uint>(points.size()));
        geometry->addAttribute(attribute);
    };
    addAttribute(Qt3DCore::QAttribute::defaultPositionAttributeName(), 0);
    addAttribute(Qt3DCore::QAttribute::defaultColorAttributeName(), 3 * sizeof(float));
    addAttribute(Qt3DCore::QAttribute::defaultNormalAttributeName(), 6 * sizeof(float));

    auto *renderer = new Qt3DRender::QGeometryRenderer(entity);
    renderer->setGeometry(geometry);
    renderer->setPrimitiveType(type);
    renderer->setVertexCount(static_cast<int>(points.size()));
    entity->addComponent(renderer);
    entity->addComponent(new Qt3DExtras::QPerVertexColorMaterial(entity));
    return entity;
}

void addLight(Qt3DCore::QEntity *root, const QVector3D &direction, float intensity)
{
    auto *entity = new Qt3DCore::QEntity(root);
    auto *light = new Qt3DRender::QDirectionalLight(entity);
    light->setColor(Qt::white);
    light->setIntensity(intensity);
    light->setWorldDirection(direction);
    entity->addComponent(light);
}
Qt3DExtras::QPhongMaterial *makeMaterial(const QColor &color, Qt3DCore::QNode *parent)
{
    auto *material = new Qt3DExtras::QPhongMaterial(parent);
    material->setAmbient(scaled(color, 0.45f));
    material->setDiffuse(scaled(color, 0.7f));
    material->setSpecular(QColor(40, 40, 40));
    material->setShininess(24.0f);
    return material;
}
} // namespace

std::unique_ptr<SkeletonView> createSkeletonView(QWidget *parent)
{
    return std::make_unique<Qt3DSkeletonView>(parent);
}

Qt3DSkeletonView::Qt3DSkeletonView(QWidget *parent)
{
    m_window = new Qt3DExtras::Qt3DWindow();
    // The RHI renderer (Qt 6's default) hands captures back bottom-up; the OpenGL one does not.
    m_captureFlipped = qgetenv("QT3D_RENDERER").toLower() != "opengl";
    m_container = QWidget::createWindowContainer(m_window, parent);
    m_container->setMinimumSize(160, 120);
    m_container->setFocusPolicy(Qt::ClickFocus);
    m_window->installEventFilter(this);
    buildScene();
    setMotion(MotionClip{});
}

Qt3DSkeletonView::~Qt3DSkeletonView()
{
    delete m_container.data(); // takes the Qt3DWindow with it
}

QWindow *Qt3DSkeletonView::window() const
{
    return m_window;
}

QWidget *Qt3DSkeletonView::widget()
{
    return m_container.data();
}

void Qt3DSkeletonView::buildScene()
{
    auto *forward = m_window->defaultFrameGraph();
    forward->setClearColor(viewBackgroundColor());
    // The capture node must be the root of the active frame graph to see the whole frame.
    m_capture = new Qt3DRender::QRenderCapture();
    forward->setParent(m_capture);
    m_window->setActiveFrameGraph(m_capture);
    // Draw only when something changed: the default redraws at the display rate forever, which
    // on a laptop's software GL keeps a core busy per viewport.
    m_window->renderSettings()->setRenderPolicy(Qt3DRender::QRenderSettings::OnDemand);

    m_root = new Qt3DCore::QEntity();
    // Key light from above the default camera, a weak fill from behind so backs are not black.
    addLight(m_root, QVector3D(-0.35f, -1.0f, -0.55f), 0.8f);
    addLight(m_root, QVector3D(0.45f, -0.3f, 0.8f), 0.45f);

    Qt3DRender::QCamera *camera = m_window->camera();
    camera->lens()->setPerspectiveProjection(kFovDeg, 4.0f / 3.0f, 0.05f, 2000.0f);
    camera->setUpVector(QVector3D(0, 1, 0));
    m_window->setRootEntity(m_root);
}

void Qt3DSkeletonView::rebuildMotionEntities()
{
    delete m_motionRoot;
    m_motionRoot = new Qt3DCore::QEntity(m_root);
    m_jointTransforms.clear();
    m_boneTransforms.clear();
    m_boneChild.clear();
    m_contactDiscs.clear();
    m_contactTransforms.clear();

    const GroundGrid grid = groundGridFor(m_bounds);
    const std::vector<QVector3D> lines = gridLines(grid);
    std::vector<QColor> lineColors;
    lineColors.reserve(lines.size());
    for (std::size_t i = 0; i < lines.size(); i += 2) {
        // The lines through the origin are brighter: they show where the motion started.
        const bool axis = (lines[i].x() == 0.0f && lines[i + 1].x() == 0.0f) ||
                          (lines[i].z() == 0.0f && lines[i + 1].z() == 0.0f);
        lineColors.insert(lineColors.end(), 2, axis ? gridAxisColor() : gridColor());
    }
    makeUnlit(m_motionRoot, lines, lineColors, Qt3DRender::QGeometryRenderer::Lines);

    m_traceEntity = nullptr;
    if (!m_drawable)
        return;

    const float scale = m_scale;
    const std::vector<QVector3D> ribbon =
        floorRibbon(rootTrace(m_clip, m_bounds.floorY, kTraceLiftM * scale), kTraceWidthM * scale);
    if (!ribbon.empty()) {
        m_traceEntity = makeUnlit(m_motionRoot, ribbon, {trajectoryColor()},
                                  Qt3DRender::QGeometryRenderer::TriangleStrip);
        m_traceEntity->setEnabled(m_showTrajectory);
    }

    auto *sphere = new Qt3DExtras::QSphereMesh(m_motionRoot);
    sphere->setRadius(1.0f);
    sphere->setRings(14);
    sphere->setSlices(18);
    auto *cylinder = new Qt3DExtras::QCylinderMesh(m_motionRoot);
    cylinder->setRadius(1.0f);
    cylinder->setLength(1.0f);
    cylinder->setRings(2);
    cylinder->setSlices(14);
    Qt3DExtras::QPhongMaterial *sideMaterial[3] = {
        makeMaterial(sideColor(BodySide::Center), m_motionRoot),
        makeMaterial(sideColor(BodySide::Left), m_motionRoot),
        makeMaterial(sideColor(BodySide::Right), m_motionRoot)};
    const auto materialFor = [&](int joint) {
        const BodySide side =
            std::size_t(joint) < m_clip.sides.size() ? m_clip.sides[joint] : BodySide::Center;
        return sideMaterial[static_cast<int>(side)];
    };
    static_assert(int(BodySide::Center) == 0 && int(BodySide::Left) == 1 &&
                  int(BodySide::Right) == 2);

    for (int j = 0; j < m_clip.numJoints; ++j) {
        auto *entity = new Qt3DCore::QEntity(m_motionRoot);
        auto *transform = new Qt3DCore::QTransform(entity);
        transform->setScale(kJointRadiusM * scale);
        entity->addComponent(sphere);
        entity->addComponent(materialFor(j));
        entity->addComponent(transform);
        m_jointTransforms.push_back(transform);
    }
    for (int j = 0; j < m_clip.numJoints; ++j) {
        if (m_clip.parents[j] < 0)
            continue;
        auto *entity = new Qt3DCore::QEntity(m_motionRoot);
        auto *transform = new Qt3DCore::QTransform(entity);
        entity->addComponent(cylinder);
        entity->addComponent(materialFor(j)); // a bone takes the side of the joint it moves
        entity->addComponent(transform);
        m_boneTransforms.push_back(transform);
        m_boneChild.push_back(j);
    }

    m_contactRoot = new Qt3DCore::QEntity(m_motionRoot);
    m_contactRoot->setEnabled(m_showContacts);
    auto *discMaterial = makeMaterial(contactColor(), m_contactRoot);
    for (std::size_t i = 0; i < m_feet.size(); ++i) {
        auto *entity = new Qt3DCore::QEntity(m_contactRoot);
        auto *transform = new Qt3DCore::QTransform(entity);
        transform->setScale3D(
            QVector3D(kDiscRadiusM * scale, kDiscThicknessM * scale, kDiscRadiusM * scale));
        entity->addComponent(cylinder);
        entity->addComponent(discMaterial);
        entity->addComponent(transform);
        m_contactDiscs.push_back(entity);
        m_contactTransforms.push_back(transform);
    }
}

void Qt3DSkeletonView::setMotion(const MotionClip &clip)
{
    m_clip = clip;
    m_drawable = isDrawable(m_clip);
    if (!m_drawable)
        m_clip = MotionClip{};
    m_bounds = motionBounds(m_clip);
    m_feet = footJoints(m_clip);
    m_contacts = footContacts(m_clip, m_feet, m_bounds.floorY);
    const auto root = std::find(m_clip.parents.begin(), m_clip.parents.end(), -1);
    m_rootJoint = root == m_clip.parents.end() ? 0 : int(root - m_clip.parents.begin());
    m_contactRoot = nullptr;
    m_homeYawDeg = homeYawDeg(m_clip, m_bounds.bodyHeightM);
    // No upper bound: a BVH in centimetres is a 170-unit giant and must still look like a body.
    m_scale = std::max(0.02f, m_bounds.bodyHeightM / kReferenceHeightM);
    rebuildMotionEntities();

    m_frame = 0;
    resetCamera();
    updatePose();
}

void Qt3DSkeletonView::setFrame(int frame)
{
    m_frame = std::max(0, frame);
    updatePose();
}

void Qt3DSkeletonView::updatePose()
{
    if (!m_drawable)
        return;
    const int f = std::min(m_frame, m_clip.numFrames - 1);
    for (int j = 0; j < m_clip.numJoints; ++j)
        m_jointTransforms[j]->setTranslation(jointPosition(m_clip, f, j));
    const float radius = kBoneRadiusM * m_scale;
    for (std::size_t b = 0; b < m_boneChild.size(); ++b) {
        const int child = m_boneChild[b];
        const BoneTransform bone = boneTransform(jointPosition(m_clip, f, m_clip.parents[child]),
                                                 jointPosition(m_clip, f, child));
        Qt3DCore::QTransform *transform = m_boneTransforms[b];
        transform->setTranslation(bone.center);
        transform->setRotation(bone.rotation);
        transform->setScale3D(QVector3D(radius, std::max(bone.lengthM, 1e-4f), radius));
    }
    for (std::size_t i = 0; i < m_feet.size(); ++i) {
        const bool planted = !m_contacts.empty() && m_contacts[f * m_feet.size() + i] != 0;
        m_contactDiscs[i]->setEnabled(planted);
        if (planted) {
            const QVector3D p = jointPosition(m_clip, f, m_feet[i]);
            m_contactTransforms[i]->setTranslation(
                QVector3D(p.x(), m_bounds.floorY + kDiscLiftM * m_scale, p.z()));
        }
    }
    if (m_follow)
        applyCamera();
}

QVector3D Qt3DSkeletonView::followTarget() const
{
    QVector3D target(0, m_bounds.floorY + m_bounds.bodyHeightM * 0.5f, 0);
    if (m_drawable) {
        const QVector3D root =
            jointPosition(m_clip, std::min(m_frame, m_clip.numFrames - 1), m_rootJoint);
        target.setX(root.x());
        target.setZ(root.z());
    }
    return target + m_followOffset;
}

void Qt3DSkeletonView::applyCamera()
{
    if (m_follow)
        m_orbit.target = followTarget();
    Qt3DRender::QCamera *camera = m_window->camera();
    // Near and far planes follow the distance: depth precision stays fine for the few
    // millimetres between grid, path and discs, from a close-up to a giant BVH in centimetres.
    camera->setNearPlane(std::max(0.002f, m_orbit.distanceM * 0.02f));
    camera->setFarPlane(m_orbit.distanceM * 4.0f + m_bounds.radius() * 4.0f + 10.0f * m_scale);
    camera->setPosition(m_orbit.eye());
    camera->setViewCenter(m_orbit.target);
    camera->setUpVector(QVector3D(0, 1, 0));
}

void Qt3DSkeletonView::setFollowCamera(bool follow)
{
    if (follow == m_follow)
        return;
    m_follow = follow;
    resetCamera();
}

void Qt3DSkeletonView::resetCamera()
{
    // Home: the whole motion in view, seen from the front-right and a little above.
    m_orbit = OrbitCamera{.yawDeg = m_homeYawDeg, .pitchDeg = kHomePitchDeg, .fovDeg = kFovDeg};
    const float aspect =
        m_window->height() > 0 ? float(m_window->width()) / float(m_window->height()) : 4.0f / 3;
    m_orbit.frameBox(m_bounds.min, m_bounds.max, aspect, kFrameMargin);
    m_followOffset = QVector3D();
    if (m_follow) // close enough to see the body, which stays in the middle
        m_orbit.frameSphere(followTarget(), m_bounds.bodyHeightM * 0.75f);
    m_atHome = true;
    applyCamera();
}

void Qt3DSkeletonView::setShowTrajectory(bool show)
{
    m_showTrajectory = show;
    if (m_traceEntity)
        m_traceEntity->setEnabled(show);
}

void Qt3DSkeletonView::setShowContacts(bool show)
{
    m_showContacts = show;
    if (m_contactRoot)
        m_contactRoot->setEnabled(show);
}

QImage Qt3DSkeletonView::captureFrame(int timeoutMs)
{
    Qt3DRender::QRenderCaptureReply *reply = m_capture->requestCapture();
    if (!reply->isComplete()) {
        QEventLoop loop;
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        connect(reply, &Qt3DRender::QRenderCaptureReply::completed, &loop, &QEventLoop::quit);
        loop.exec();
    }
    QImage image = reply->isComplete() ? reply->image() : QImage();
    delete reply;
    if (m_captureFlipped && !image.isNull())
        image = image.mirrored(false, true);
    return image;
}

QWidget *Qt3DSkeletonView::dropTarget() const
{
    // Not the container itself: QWindowContainer hands drag events on to its window (us).
    QWidget *target = m_container ? m_container->parentWidget() : nullptr;
    while (target && !target->acceptDrops())
        target = target->parentWidget();
    return target;
}

bool Qt3DSkeletonView::forwardDrop(QDropEvent *event)
{
    // X11 delivers drags to the native child window itself, past the widget tree: hand them to
    // the nearest widget that accepts drops, as if the window were an ordinary child widget.
    QWidget *target = dropTarget();
    if (!target)
        return false;
    const QPoint at = m_container->mapTo(target, event->position().toPoint());
    std::unique_ptr<QDropEvent> copy;
    if (event->type() == QEvent::DragEnter)
        copy = std::make_unique<QDragEnterEvent>(at, event->possibleActions(), event->mimeData(),
                                                 event->buttons(), event->modifiers());
    else if (event->type() == QEvent::DragMove)
        copy = std::make_unique<QDragMoveEvent>(at, event->possibleActions(), event->mimeData(),
                                                event->buttons(), event->modifiers());
    else
        copy =
            std::make_unique<QDropEvent>(QPointF(at), event->possibleActions(), event->mimeData(),
                                         event->buttons(), event->modifiers());
    copy->setAccepted(false);
    QCoreApplication::sendEvent(target, copy.get());
    event->setDropAction(copy->dropAction());
    event->setAccepted(copy->isAccepted());
    return true;
}

bool Qt3DSkeletonView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched != m_window)
        return false;
    switch (event->type()) {
    case QEvent::MouseButtonPress: {
        auto *mouse = static_cast<QMouseEvent *>(event);
        m_lastMouse = mouse->position().toPoint();
        m_dragButtons = mouse->buttons();
        m_panDrag = (m_dragButtons & (Qt::RightButton | Qt::MiddleButton)) ||
                    (mouse->modifiers() & Qt::ShiftModifier);
        return true;
    }
    case QEvent::MouseMove: {
        auto *mouse = static_cast<QMouseEvent *>(event);
        if (mouse->buttons() == Qt::NoButton)
            return false;
        const QPoint pos = mouse->position().toPoint();
        const QPoint delta = pos - m_lastMouse;
        m_lastMouse = pos;
        if (m_panDrag) {
            const QVector3D before = m_orbit.target;
            m_orbit.pan(delta.x(), delta.y(), m_window->height());
            if (m_follow)
                m_followOffset += m_orbit.target - before;
        } else {
            m_orbit.orbit(delta.x(), delta.y());
        }
        m_atHome = false;
        applyCamera();
        return true;
    }
    case QEvent::MouseButtonRelease:
        m_dragButtons = static_cast<QMouseEvent *>(event)->buttons();
        return true;
    case QEvent::Resize:
        if (m_atHome) // keep the framing right for the new shape until the user moves
            QTimer::singleShot(0, this, [this] {
                if (m_atHome)
                    resetCamera();
            });
        return false;
    case QEvent::DragEnter:
    case QEvent::DragMove:
    case QEvent::Drop:
        return forwardDrop(static_cast<QDropEvent *>(event));
    case QEvent::DragLeave: {
        if (QWidget *target = dropTarget()) {
            QDragLeaveEvent leave;
            QCoreApplication::sendEvent(target, &leave);
        }
        return true;
    }
    case QEvent::MouseButtonDblClick:
        resetCamera();
        return true;
    case QEvent::Wheel:
        m_orbit.zoom(static_cast<QWheelEvent *>(event)->angleDelta().y() / 120.0f);
        m_atHome = false;
        applyCamera();
        return true;
    default:
        return false;
    }
}

} // namespace mp
