// The Train form's "LoRA adapters / Full fine-tuning" choice: it writes lora.enabled, greys the
// LoRA settings and the process count out for full fine-tuning, and is DPO's only (RLHF and the
// reward model keep LoRA). With MP_SCREENSHOT_DIR it saves train-form-full.png.
#include "ml/run/run_config.h"
#include "ui/train/train_form.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QDir>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

using namespace mp;

class TrainFormTest : public QObject {
    Q_OBJECT
private slots:
    void fullFineTuningChoice()
    {
        TrainForm form;
        form.resize(480, 900);
        form.show();
        QVERIFY(QTest::qWaitForWindowExposed(&form));
        auto *tuning = form.findChild<QComboBox *>(QStringLiteral("fineTuning"));
        QVERIFY(tuning);
        QVERIFY(form.config().lora.enabled); // LoRA by default
        auto *processes = form.findChild<QSpinBox *>(QStringLiteral("processes"));
        QVERIFY(processes);
        if (processes->maximum() > 1)
            form.setProcesses(2);

        QSignalSpy changed(&form, &TrainForm::changed);
        QTest::mouseClick(tuning, Qt::LeftButton);
        tuning->setCurrentIndex(tuning->findData(false));
        QCOMPARE(tuning->currentText(), QStringLiteral("Full fine-tuning"));
        QVERIFY(changed.count() >= 1);
        RunConfig config = form.config();
        QVERIFY(!config.lora.enabled);
        QCOMPARE(form.processes(), 1);
        QVERIFY(!processes->isEnabled());
        // The LoRA settings (rank, alpha: spin boxes of the group) are greyed out.
        int loraSpins = 0;
        for (auto *spin : form.findChildren<QAbstractSpinBox *>())
            if (spin->parentWidget() == tuning->parentWidget()) {
                ++loraSpins;
                QVERIFY(!spin->isEnabled());
            }
        QCOMPARE(loraSpins, 3);
        if (const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR"); !shots.isEmpty())
            form.grab().save(QDir(shots).filePath(QStringLiteral("train-form-full.png")));

        // The config round-trips through setConfig.
        TrainForm other;
        other.setConfig(config);
        QVERIFY(!other.config().lora.enabled);
        QCOMPARE(other.findChild<QComboBox *>(QStringLiteral("fineTuning"))->currentData().toBool(),
                 false);

        // RLHF trains LoRA adapters: the choice goes back to LoRA and is locked.
        config.method = TrainMethod::Rlhf;
        form.setConfig(config);
        QVERIFY(!tuning->isEnabled());
        QVERIFY(form.config().lora.enabled);
        QCOMPARE(tuning->currentData().toBool(), true);
        QVERIFY(processes->isEnabled());
    }
};

QTEST_MAIN(TrainFormTest)
#include "train_form_test.moc"
