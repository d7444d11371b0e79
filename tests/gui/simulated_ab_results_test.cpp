// A blind A/B session rated by the simulated labeler (runSimulatedAb, as `compare ab` writes
// it) opened in the Compare panel's Blind A/B tab: the results show at once (the session is
// complete), the chart's bars per temperature are the session's tallies, the table has a row per
// temperature and one for all, and the caption says a program rated it, not a person.
// With MP_SCREENSHOT_DIR set it saves the tab as simulated-ab.png; with MP_AB_SESSION set it
// opens a copy of that file too (e.g. a README run) and saves simulated-ab-file.png.

#include "app/compare/ab_session.h"
#include "app/compare/simulated_ab.h"
#include "app/core/settings.h"
#include "ml/core/paths.h"
#include "ml/data/corpus/corpus_builder.h"
#include "ui/compare/ab_results_view.h"
#include "ui/compare/blind_ab_page.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/model_picker.h"

#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QScreen>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace mp;

class SimulatedAbResultsTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<ComparePanel> m_panel;

    void screenshot(const QString &name)
    {
        const QString shots = qEnvironmentVariable("MP_SCREENSHOT_DIR");
        if (shots.isEmpty())
            return;
        QTest::qWait(800);
        const QRect area = m_panel->geometry();
        QVERIFY(m_panel->screen()
                    ->grabWindow(0, area.x(), area.y(), area.width(), area.height())
                    .save(shots + QLatin1Char('/') + name));
    }

    // Opens PATH in the Blind A/B tab and checks what it shows against the file's session.
    void openAndCheck(const QString &path)
    {
        BlindAbPage *blind = m_panel->blind();
        m_panel->modes()->setCurrentWidget(blind);
        QVERIFY2(blind->open(path), qPrintable(blind->statusText()));
        const AbSession session = AbSession::load(path);
        QVERIFY(session.isComplete());
        QVERIFY(blind->resultsVisible());
        // The pickers and the form show the session's models and settings.
        QCOMPARE(m_panel->pickerA()->model(), session.modelA());
        QCOMPARE(m_panel->pickerB()->model(), session.modelB());
        QStringList temperatures;
        for (const double temperature : session.temperatures())
            temperatures << QString::number(temperature);
        QCOMPARE(blind->findChild<QLineEdit *>(QStringLiteral("abTemperatures"))->text(),
                 temperatures.join(QStringLiteral(", ")));
        AbResultsView *results = blind->resultsView();
        for (int i = 0; i < session.temperatures().size(); ++i) {
            const AbTally tally = session.tally(session.temperatures()[i]);
            const QList<double> bars = results->barValues(i);
            QCOMPARE(bars.size(), 3);
            QCOMPARE(bars[0], 100.0 * tally.winRate());
            QCOMPARE(bars[1], 100.0 * tally.tieRate());
            QCOMPARE(bars[2], 100.0 * tally.lossRate());
            QCOMPARE(results->table()->item(i, 1)->text(), QString::number(tally.wins));
        }
        QCOMPARE(results->table()->rowCount(), session.temperatures().size() + 1);
        const int last = results->table()->rowCount() - 1;
        QCOMPARE(results->table()->item(last, 4)->text(),
                 QStringLiteral("%1 / %1").arg(session.size()));
        // The total row is in view, not scrolled away.
        QTableWidget *table = results->table();
        QVERIFY(table->viewport()->rect().contains(table->visualItemRect(table->item(last, 4))));
        bool captionNamesRater = false;
        for (QLabel *label : blind->findChildren<QLabel *>())
            captionNamesRater |= label->text().contains(QStringLiteral("not by a person"));
        QVERIFY(captionNamesRater);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("s.ini")));
        m_settings->setModelDir(QString::fromStdString(requireDefaultModelDir().string()));
        m_settings->setDevice(QStringLiteral("cpu"));
        m_panel = std::make_unique<ComparePanel>(*m_settings);
        m_panel->resize(1280, 800);
        m_panel->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
    }

    void aSimulatedSessionShowsItsTalliesPerTemperature()
    {
        const QString corpus = m_dir.filePath(QStringLiteral("corpus"));
        corpus::buildCorpus(corpus.toStdString(), {.numClips = 30, .seed = 4321, .threads = 1});
        SimulatedAbOptions options;
        options.corpusDir = corpus;
        options.split = QStringLiteral("train");
        options.prompts = 4;
        options.temperatures = {0.8, 1.2};
        options.labeler.noiseStd = 1.0; // identical motions: the noise splits them both ways
        const AbModelRef model{QString::fromStdString(requireDefaultModelDir().string()), {}};
        const AbSession session = runSimulatedAb(model, model, options);
        QVERIFY(session.total().wins > 0 && session.total().losses > 0);
        const QString path = m_dir.filePath(QStringLiteral("simulated.json"));
        session.save(path);
        openAndCheck(path);
        screenshot(QStringLiteral("simulated-ab.png"));
    }

    void aGivenSessionFileOpens()
    {
        const QString given = qEnvironmentVariable("MP_AB_SESSION");
        if (given.isEmpty())
            QSKIP("MP_AB_SESSION names a session file to look at");
        // The tab saves an opened session again: a copy keeps the given file as it is.
        const QString copy = m_dir.filePath(QStringLiteral("given.json"));
        QVERIFY(QFile::copy(given, copy));
        openAndCheck(copy);
        screenshot(QStringLiteral("simulated-ab-file.png"));
    }

    void cleanupTestCase() { m_panel.reset(); }
};

QTEST_MAIN(SimulatedAbResultsTest)
#include "simulated_ab_results_test.moc"
