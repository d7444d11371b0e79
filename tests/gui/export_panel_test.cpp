// torch before Qt: Qt's `slots` macro breaks torch headers included after it.
#include <torch/torch.h>

#include "app/export/motion_io.h"
#include "ml/data/npy.h"
#include "ml/motion/skeleton.h"
#include "ui/export/export_panel.h"
#include "viewer/motion_viewport.h"

#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QScreen>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace mp;

namespace {
// A figure walking forward along +Z with swinging arms and legs, by forward kinematics.
at::Tensor walkingJoints(int frames)
{
    const Skeleton &skeleton = smpl22();
    const int joints = static_cast<int>(skeleton.parents.size());
    auto rotations = torch::zeros({frames, joints, 4});
    rotations.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), 0}, 1.0);
    auto root = torch::zeros({frames, 3});
    for (int t = 0; t < frames; ++t) {
        const double phase = 2 * M_PI * t / 20.0;
        auto setX = [&](int joint, double angle) {
            rotations[t][joint][0] = std::cos(angle / 2);
            rotations[t][joint][1] = std::sin(angle / 2);
        };
        setX(1, 0.4 * std::sin(phase));
        setX(2, -0.4 * std::sin(phase));
        setX(4, 0.3 * (1 + std::sin(phase)));
        setX(16, -0.3 * std::sin(phase));
        root[t][1] = 0.95;
        root[t][2] = 0.06 * t;
    }
    return forwardKinematics(skeleton, root, rotations);
}
} // namespace

class ExportPanelTest : public QObject {
    Q_OBJECT
private slots:
    void openExportAndReadBack()
    {
        QTemporaryDir dir;
        const QString input = dir.filePath("walk.npy");
        const at::Tensor joints = walkingJoints(60);
        npy::write(input.toStdString(), joints);

        ExportPanel panel;
        panel.resize(1100, 700);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.openMotion(input));
        QVERIFY(panel.viewport()->hasMotion());
        QVERIFY(panel.findChild<QLabel *>("motionSummary")->text().contains("60 frames"));

        for (const char *suffix : {"bvh", "fbx", "npy"}) {
            const QString output = dir.filePath(QStringLiteral("walk-out.%1").arg(suffix));
            QSignalSpy finished(&panel, &ExportPanel::exportFinished);
            QVERIFY(panel.exportTo(output));
            // A second export while the first is written is refused, visibly, and the button
            // stays disabled until the first reports.
            const QString second = dir.filePath(QStringLiteral("second.%1").arg(suffix));
            QVERIFY(!panel.exportTo(second));
            QVERIFY(panel.findChild<QLabel *>("exportStatus")->text().contains("Still writing"));
            QVERIFY(!panel.findChild<QPushButton *>("exportButton")->isEnabled());
            QVERIFY(finished.wait(20000));
            QCOMPARE(finished.size(), 1);
            QVERIFY(!panel.isExporting());
            QVERIFY(panel.findChild<QPushButton *>("exportButton")->isEnabled());
            QVERIFY(!QFile::exists(second));
            QVERIFY2(finished.first().at(0).toBool(),
                     qPrintable(finished.first().at(1).toString()));
            QVERIFY(QFile(output).size() > 0);
        }
        // The BVH written from the panel reproduces the joint positions.
        const LoadedMotion back = readMotion(dir.filePath("walk-out.bvh").toStdString());
        QCOMPARE(back.clip.numFrames, 60);
        const MotionClip &clip = back.clip;
        const auto reordered = asSmpl22(clip);
        QVERIFY(reordered.has_value());
        const auto expected = joints.contiguous();
        const float *source = expected.data_ptr<float>();
        double error = 0;
        for (std::size_t i = 0; i < reordered->positions.size(); i += 3)
            error += std::hypot(reordered->positions[i] - source[i],
                                reordered->positions[i + 1] - source[i + 1],
                                reordered->positions[i + 2] - source[i + 2]);
        error /= reordered->positions.size() / 3;
        QVERIFY2(error < 1e-3, qPrintable(QString::number(error)));

        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QTest::qWait(500);
            panel.screen()->grabWindow(0).save(shots + "/export-panel.png");
        }
    }

    void badFileIsReportedWithItsName()
    {
        QTemporaryDir dir;
        const QString bogus = dir.filePath("broken.npy");
        QFile file(bogus);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("\x93NUMPY garbage");
        file.close();
        ExportPanel panel;
        QVERIFY(!panel.openMotion(bogus));
        QVERIFY(panel.findChild<QLabel *>("exportStatus")->text().contains("broken.npy"));
        QVERIFY(!panel.hasMotion());
        QVERIFY(!panel.exportTo(dir.filePath("x.bvh")));
    }
};

QTEST_MAIN(ExportPanelTest)
#include "export_panel_test.moc"
