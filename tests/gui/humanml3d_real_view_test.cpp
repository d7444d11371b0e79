// Real HumanML3D clips in the GUI (issue 25): the Export panel opens a clip's 263-d features file
// as a user would and its viewport holds the released new_joints; the Label panel's two
// viewports, on their shared clock, play two real clips side by side (set directly: the panel
// itself shows generated pairs and opens no files). AMASS's licence keeps the motions out of the
// repository: MP_HUMANML3D_DIR names a copy (tests/reference/humanml3d_real.py assembles six
// public clips), and the test is skipped without it. MP_SCREENSHOT_DIR saves
// humanml3d-export.png and humanml3d-label.png.

// torch before Qt: Qt's `slots` macro breaks torch headers included after it.
#include <torch/torch.h>

#include "app/core/settings.h"
#include "app/export/motion_io.h"
#include "ml/data/npy.h"
#include "ui/export/export_panel.h"
#include "ui/label/label_panel.h"
#include "ui/main_window.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_clock.h"

#include <QFile>
#include <QLabel>
#include <QScreen>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace mp;

namespace {

// The first names of train.txt (a full copy has thousands).
QStringList firstClips(const QString &root, int count)
{
    QFile file(root + QStringLiteral("/train.txt"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QStringList names;
    while (!file.atEnd() && names.size() < count) {
        const QString name = QString::fromUtf8(file.readLine()).trimmed();
        if (!name.isEmpty())
            names << name;
    }
    return names;
}

// Largest |a - b| over the joints of two clips of the same shape, or infinity.
double maxJointDiff(const MotionClip &clip, const at::Tensor &joints)
{
    if (joints.dim() != 3 || clip.numFrames != joints.size(0) || clip.numJoints != joints.size(1))
        return INFINITY;
    const auto expected = joints.to(torch::kFloat32).contiguous();
    const float *e = expected.data_ptr<float>();
    double worst = 0;
    for (std::size_t i = 0; i < clip.positions.size(); ++i)
        worst = std::max(worst, std::abs(double(clip.positions[i]) - e[i]));
    return worst;
}

void saveScreenshot(QWidget &window, const QString &name)
{
    const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR");
    if (shots.isEmpty())
        return;
    QTest::qWait(1500); // let the motions play a little
    const QRect frame = window.frameGeometry();
    window.screen()
        ->grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        .save(shots + "/" + name);
}

} // namespace

class HumanMl3dRealViewTest : public QObject {
    Q_OBJECT
private:
    QString m_root;
    QStringList m_clips;

private slots:
    void initTestCase()
    {
        m_root = qEnvironmentVariable("MP_HUMANML3D_DIR");
        if (m_root.isEmpty())
            QSKIP("MP_HUMANML3D_DIR is not set: point it at a HumanML3D directory (or run "
                  "tests/reference/humanml3d_real.py)");
        m_clips = firstClips(m_root, 2);
        QVERIFY2(m_clips.size() == 2, qPrintable(m_root + "/train.txt has fewer than 2 names"));
    }

    void exportPanelOpensRealFeatures()
    {
        const QString features = m_root + "/new_joint_vecs/" + m_clips[0] + ".npy";
        const at::Tensor released =
            npy::read((m_root + "/new_joints/" + m_clips[0] + ".npy").toStdString());

        ExportPanel panel;
        panel.resize(1100, 700);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.openMotion(features));
        const MotionClip &clip = panel.viewport()->motion();
        QCOMPARE(clip.numJoints, 22);
        QVERIFY(panel.findChild<QLabel *>("motionSummary")
                    ->text()
                    .contains(QStringLiteral("%1 frames").arg(released.size(0))));
        // Recovered from the features: HumanML3D's joints within float32 rounding (metres).
        const double diff = maxJointDiff(clip, released);
        QVERIFY2(diff < 1e-5, qPrintable(QStringLiteral("max |diff| %1 m").arg(diff)));
        saveScreenshot(panel, QStringLiteral("humanml3d-export.png"));
    }

    void labelPanelViewportsPlayRealClips()
    {
        QTemporaryDir dir;
        Settings settings(dir.filePath(QStringLiteral("s.ini")));
        MainWindow window(settings);
        QVERIFY(window.openStudy(dir.filePath(QStringLiteral("real.mpstudy")), true));
        auto *panel = window.findChild<LabelPanel *>();
        QVERIFY(panel);
        window.panels()->setCurrentWidget(panel);
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        MotionViewport *views[2] = {panel->leftViewport(), panel->rightViewport()};
        for (int side = 0; side < 2; ++side) {
            const auto path = (m_root + "/new_joint_vecs/" + m_clips[side] + ".npy").toStdString();
            views[side]->setMotion(readMotion(path).clip);
            QVERIFY(views[side]->hasMotion());
        }
        QCOMPARE(views[0]->clock(), views[1]->clock());
        views[0]->clock()->play();
        QVERIFY(QTest::qWaitFor([&] { return views[0]->frame() > 5; }, 5000));
        QCOMPARE(views[1]->frame(), views[0]->frame());
        saveScreenshot(window, QStringLiteral("humanml3d-label.png"));
    }
};

QTEST_MAIN(HumanMl3dRealViewTest)
#include "humanml3d_real_view_test.moc"
