#include "ui/dataset/labeler_view.h"

#include "app/core/error_text.h"
#include "app/jobs/job_runner.h"
#include "app/study/active_pairs.h"
#include "app/study/check_pairs.h"
#include "app/study/label_aggregation.h"
#include "app/study/labeler_quality.h"
#include "app/study/study_rounds.h"
#include "app/study/study_split.h"
#include "app/study/study_store.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace mp {

namespace {

QString percent(double share)
{
    return std::isfinite(share) ? QString::number(100.0 * share, 'f', 0) + QLatin1Char('%')
                                : QStringLiteral("n/a");
}

QString decimal(double value)
{
    return std::isfinite(value) ? QString::number(value, 'f', 2) : QStringLiteral("n/a");
}

QTableWidgetItem *cell(const QString &text, const QString &tip = {})
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    if (!tip.isEmpty())
        item->setToolTip(tip);
    return item;
}

} // namespace

LabelerView::LabelerView(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("labelerView"));
    m_labelers = new QTableWidget(0, NumColumns, this);
    m_labelers->setObjectName(QStringLiteral("labelerTable"));
    m_labelers->setHorizontalHeaderLabels(
        {tr("Labeler"), tr("Train"), tr("Labels"), tr("Gold accuracy"), tr("Gold by block"),
         tr("Self-consistency"), tr("Mean κ"), tr("α without"), tr("Agreement by degree"),
         tr("Median time"), tr("Watched both"), tr("Left share")});
    const QStringList tips = {
        tr("Who labeled"),
        tr("Unchecked: this labeler's labels are left out of the training data (study split)"),
        tr("Current labels on the study's pairs, skips included"),
        tr("The expected sample chosen on gold pairs (unsure counts as wrong; skips left out)"),
        tr("Gold accuracy over successive blocks of 10 gold labels, oldest first"),
        tr("The same choice on a pair shown again with sides swapped; in brackets the same "
           "degree too"),
        tr("Mean Cohen's κ with each other labeler they share pairs with"),
        tr("Krippendorff's ordinal α of everybody else: above the study's α, this labeler pulls "
           "agreement down"),
        tr("Share of the others' labels on the same pairs that agree, for this labeler's Much / "
           "Better / Slightly / Negligibly"),
        tr("Median seconds per judgment"),
        tr("Labels given after both motions had played to the end"),
        tr("Share of preferences for the left side; * when a 50/50 test gives p < 0.05")};
    for (int c = 0; c < NumColumns; ++c)
        m_labelers->horizontalHeaderItem(c)->setToolTip(tips[c]);
    m_labelers->verticalHeader()->hide();
    m_labelers->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_labelers->setSelectionBehavior(QAbstractItemView::SelectRows);

    m_rule = new QComboBox(this);
    m_rule->setObjectName(QStringLiteral("trainingRule"));
    const QStringList ruleTitles = {tr("Last label (the paper's)"), tr("Majority"),
                                    tr("Mean degree"), tr("Drop disagreements")};
    const QStringList names = labelAggregationNames();
    for (int i = 0; i < names.size(); ++i)
        m_rule->addItem(ruleTitles.value(i, names[i]), names[i]);
    m_rule->setToolTip(tr("How several labels of one pair make its training label "
                          "(motionpref-cli study split --aggregate)"));
    auto rateSpin = [this](const QString &name, const QString &tip) {
        auto *spin = new QDoubleSpinBox(this);
        spin->setObjectName(name);
        spin->setRange(0, 100 * kMaxCheckShare);
        spin->setDecimals(0);
        spin->setSuffix(QStringLiteral(" %"));
        spin->setToolTip(tip);
        return spin;
    };
    m_goldRate = rateSpin(QStringLiteral("goldRate"),
                          tr("Share of the pairs shown that are gold pairs (a known answer: a "
                             "motion against a corrupted or mismatched copy); never marked"));
    m_repeatRate = rateSpin(QStringLiteral("repeatRate"),
                            tr("Share of the pairs shown that are pairs labeled before, shown "
                               "again with sides swapped"));
    m_pairRule = new QComboBox(this);
    m_pairRule->setObjectName(QStringLiteral("pairRule"));
    const QStringList pairRuleTitles = {tr("Random pair"), tr("Smallest reward margin"),
                                        tr("Reward-ensemble disagreement")};
    int ruleIndex = 0;
    for (const PairRuleName &entry : kPairRuleNames) {
        const QString name = QString::fromUtf8(entry.name.data(), qsizetype(entry.name.size()));
        m_pairRule->addItem(pairRuleTitles.value(ruleIndex++, name), name);
    }
    m_pairRule->setToolTip(tr("Which pair of a prompt's candidates is shown: a random one, or the "
                              "one whose implicit reward margin β·log(π/π_ref) is closest to zero "
                              "(the pair the current model cannot tell apart yet), or the one on "
                              "which a small ensemble of reward models disagrees most. Next round "
                              "trains that ensemble on the round's labels (3 reward models); "
                              "round 0 has no labels, so its pairs are random ones."));
    m_candidates = new QSpinBox(this);
    m_candidates->setObjectName(QStringLiteral("candidates"));
    m_candidates->setRange(kMinCandidates, kMaxCandidates);
    m_candidates->setToolTip(tr("Motions sampled per prompt to choose the pair from"));
    m_diversity = new QDoubleSpinBox(this);
    m_diversity->setObjectName(QStringLiteral("diversity"));
    m_diversity->setRange(0, 10);
    m_diversity->setSingleStep(0.1);
    m_diversity->setToolTip(tr("Weight of the penalty on prompts like those already chosen "
                               "(cosine of the T5 encoder's mean state); 0: off. It acts where "
                               "a pair's prompt is chosen among several (study simulate); the "
                               "Label panel labels the prompts typed or listed, in order."));
    m_selectionBeta = new QDoubleSpinBox(this);
    m_selectionBeta->setObjectName(QStringLiteral("selectionBeta"));
    m_selectionBeta->setRange(0.01, 10);
    m_selectionBeta->setSingleStep(0.05);
    m_selectionBeta->setToolTip(tr("β of the implicit reward the margin rule computes"));
    m_round = new QLabel(this);
    m_round->setObjectName(QStringLiteral("roundLabel"));
    m_round->setToolTip(tr("Online rounds: round k samples pairs from the base model plus the "
                           "adapter trained on every label before it (motionpref-cli study "
                           "next-round)"));
    m_nextRound = new QPushButton(tr("Next round"), this);
    m_nextRound->setObjectName(QStringLiteral("nextRound"));
    m_nextRound->setToolTip(tr("Train an adapter (DPO) on every label stored so far as a "
                               "background job; when it is ready, pairs are sampled from the "
                               "base model plus it (motionpref-cli study next-round)"));
    m_roundJob = new JobRunner(this);
    connect(m_nextRound, &QPushButton::clicked, this, &LabelerView::startNextRound);
    connect(m_roundJob, &JobRunner::stateChanged, this, &LabelerView::roundJobChanged);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);

    auto *settings = new QHBoxLayout;
    auto *training = new QFormLayout;
    training->addRow(tr("Training label:"), m_rule);
    auto *checks = new QFormLayout;
    checks->addRow(tr("Gold pairs:"), m_goldRate);
    checks->addRow(tr("Repeated pairs:"), m_repeatRate);
    auto *selection = new QFormLayout;
    selection->addRow(tr("Pair shown:"), m_pairRule);
    selection->addRow(tr("Candidates:"), m_candidates);
    selection->addRow(tr("Diversity:"), m_diversity);
    selection->addRow(tr("Margin β:"), m_selectionBeta);
    selection->addRow(tr("Round:"), m_round);
    selection->addRow(QString(), m_nextRound);
    settings->addLayout(training);
    settings->addLayout(checks);
    settings->addLayout(selection);
    settings->addWidget(m_message, 1);

    m_reasons = new QTableWidget(0, 2 + kNumReasonTags, this);
    m_reasons->setObjectName(QStringLiteral("reasonTable"));
    QStringList reasonHeaders = {tr("Model"), tr("Skips")};
    for (ReasonTag tag : allReasonTags())
        reasonHeaders << reasonTagTitle(tag);
    m_reasons->setHorizontalHeaderLabels(reasonHeaders);
    m_reasons->verticalHeader()->hide();
    m_reasons->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_reasons->setMaximumHeight(140);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(settings);
    layout->addWidget(m_labelers, 1);
    layout->addWidget(new QLabel(tr("Reasons of skips, per model:"), this));
    layout->addWidget(m_reasons);

    connect(m_rule, &QComboBox::currentIndexChanged, this, &LabelerView::saveTraining);
    connect(m_labelers, &QTableWidget::itemChanged, this, [this](QTableWidgetItem *item) {
        if (item->column() == TrainColumn)
            saveTraining();
    });
    connect(m_goldRate, &QDoubleSpinBox::valueChanged, this, &LabelerView::saveRates);
    connect(m_repeatRate, &QDoubleSpinBox::valueChanged, this, &LabelerView::saveRates);
    connect(m_pairRule, &QComboBox::currentIndexChanged, this, &LabelerView::saveSelection);
    connect(m_candidates, &QSpinBox::valueChanged, this, &LabelerView::saveSelection);
    connect(m_diversity, &QDoubleSpinBox::valueChanged, this, &LabelerView::saveSelection);
    connect(m_selectionBeta, &QDoubleSpinBox::valueChanged, this, &LabelerView::saveSelection);
    setStore(nullptr);
}

void LabelerView::setStore(StudyStore *store)
{
    m_store = store;
    refresh();
}

void LabelerView::refresh()
{
    m_filling = true;
    const bool open = m_store && m_store->isOpen();
    setEnabled(open);
    m_labelers->setRowCount(0);
    m_reasons->setRowCount(0);
    if (!open) {
        m_message->setText(tr("No study is open."));
        m_filling = false;
        return;
    }
    try {
        const TrainingLabelOptions training = studyTrainingLabels(*m_store);
        m_rule->setCurrentIndex(std::max(0, m_rule->findData(labelAggregationName(training.rule))));
        const CheckRates rates = checkRates(*m_store);
        m_goldRate->setValue(100.0 * rates.gold);
        m_repeatRate->setValue(100.0 * rates.repeat);
        const PairSelectionSettings selection = pairSelectionSettings(*m_store);
        m_pairRule->setCurrentIndex(
            std::max(0, m_pairRule->findData(
                            QString::fromUtf8(pairRuleName(selection.rule).data(),
                                              qsizetype(pairRuleName(selection.rule).size())))));
        m_candidates->setValue(selection.candidates);
        m_diversity->setValue(selection.diversity);
        m_selectionBeta->setValue(selection.beta);
        const RoundStatus round = roundStatus(*m_store);
        m_round->setText(round.round == 0
                             ? tr("0 (base), %n new", nullptr, round.labelsThisRound)
                             : tr("%1 (%2 trained), %n new", nullptr, round.labelsThisRound)
                                   .arg(round.round)
                                   .arg(round.info ? round.info->trainedLabels : 0));
        const QualityReport report = computeLabelerQuality(*m_store);
        m_labelers->setRowCount(static_cast<int>(report.labelers.size()));
        int row = 0;
        for (const LabelerQuality &q : report.labelers) {
            auto *name = new QTableWidgetItem(q.labeler);
            name->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
            m_labelers->setItem(row, NameColumn, name);
            auto *train = new QTableWidgetItem;
            train->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
            train->setCheckState(training.excludedLabelers.contains(q.labeler) ? Qt::Unchecked
                                                                               : Qt::Checked);
            m_labelers->setItem(row, TrainColumn, train);
            m_labelers->setItem(row, LabelsColumn, cell(QString::number(q.labels)));
            m_labelers->setItem(row, GoldColumn,
                                cell(QStringLiteral("%1 (%2/%3)")
                                         .arg(percent(q.goldAccuracy))
                                         .arg(q.goldCorrect)
                                         .arg(q.goldJudged)));
            QStringList blocks;
            for (const GoldBlock &block : q.goldBlocks)
                blocks << percent(block.accuracy);
            m_labelers->setItem(row, GoldBlocksColumn,
                                cell(blocks.isEmpty() ? QStringLiteral("n/a")
                                                      : blocks.join(QStringLiteral(" → "))));
            m_labelers->setItem(
                row, SelfColumn,
                cell(QStringLiteral("%1 (%2) of %3")
                         .arg(percent(q.selfConsistency), percent(q.degreeConsistency))
                         .arg(q.repeats)));
            m_labelers->setItem(row, KappaColumn, cell(decimal(q.meanKappa)));
            m_labelers->setItem(
                row, AlphaWithoutColumn,
                cell(QStringLiteral("%1 (all %2)")
                         .arg(decimal(q.alphaWithout), decimal(report.alphaOrdinal))));
            QStringList byDegree;
            for (int d = 3; d >= 0; --d)
                byDegree << percent(q.agreementByDegree[static_cast<std::size_t>(d)]);
            m_labelers->setItem(row, ByDegreeColumn, cell(byDegree.join(QStringLiteral(" / "))));
            m_labelers->setItem(
                row, TimeColumn,
                cell(q.medianTimeMs > 0
                         ? QString::number(q.medianTimeMs / 1000.0, 'f', 1) + QStringLiteral(" s")
                         : QStringLiteral("n/a")));
            m_labelers->setItem(row, WatchedColumn,
                                cell(QStringLiteral("%1 of %2")
                                         .arg(percent(q.watchedShare))
                                         .arg(q.watchedRecorded)));
            m_labelers->setItem(
                row, SideColumn,
                cell(percent(q.leftShare) +
                         (q.positionBiasP < 0.05 ? QStringLiteral(" *") : QString()),
                     tr("p = %1 against 50/50").arg(decimal(q.positionBiasP))));
            ++row;
        }
        const std::vector<ModelReasonCounts> reasons = reasonTagsByModel(*m_store);
        m_reasons->setRowCount(static_cast<int>(reasons.size()));
        row = 0;
        for (const ModelReasonCounts &counts : reasons) {
            auto *model = new QTableWidgetItem(counts.model);
            model->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
            m_reasons->setItem(row, 0, model);
            m_reasons->setItem(row, 1, cell(QString::number(counts.skips)));
            for (int t = 0; t < kNumReasonTags; ++t)
                m_reasons->setItem(row, 2 + t,
                                   cell(QString::number(counts.tags[static_cast<std::size_t>(t)])));
            ++row;
        }
        m_message->setText(tr("Gold and repeated pairs are never marked on screen and never "
                              "enter training data or agreement."));
    } catch (const std::exception &error) {
        m_message->setText(errorText(error));
    }
    m_filling = false;
}

void LabelerView::saveTraining()
{
    if (m_filling || !m_store || !m_store->isOpen())
        return;
    TrainingLabelOptions options;
    options.rule =
        labelAggregationFromName(m_rule->currentData().toString()).value_or(LabelAggregation::Last);
    for (int row = 0; row < m_labelers->rowCount(); ++row) {
        const QTableWidgetItem *train = m_labelers->item(row, TrainColumn);
        if (train && train->checkState() == Qt::Unchecked)
            options.excludedLabelers << m_labelers->item(row, NameColumn)->text();
    }
    try {
        setStudyTrainingLabels(*m_store, options);
        m_message->setText(
            options.excludedLabelers.isEmpty()
                ? tr("Training data: %1 label per pair, every labeler.").arg(m_rule->currentText())
                : tr("Training data: %1 label per pair, without %2.")
                      .arg(m_rule->currentText(),
                           options.excludedLabelers.join(QStringLiteral(", "))));
    } catch (const std::exception &error) {
        m_message->setText(errorText(error));
    }
}

void LabelerView::saveRates()
{
    if (m_filling || !m_store || !m_store->isOpen())
        return;
    try {
        setCheckRates(*m_store, {.gold = m_goldRate->value() / 100.0,
                                 .repeat = m_repeatRate->value() / 100.0});
        m_message->setText(tr("Gold %1 %, repeated %2 % of the pairs shown.")
                               .arg(m_goldRate->value())
                               .arg(m_repeatRate->value()));
    } catch (const std::exception &error) {
        m_message->setText(errorText(error));
    }
}

void LabelerView::saveSelection()
{
    if (m_filling || !m_store || !m_store->isOpen())
        return;
    try {
        const PairSelectionSettings settings{
            .rule = parsePairRule(m_pairRule->currentData().toString().toStdString()),
            .candidates = m_candidates->value(),
            .diversity = m_diversity->value(),
            .beta = m_selectionBeta->value()};
        setPairSelectionSettings(*m_store, settings);
        m_message->setText(tr("Pairs shown: %1.").arg(describe(settings)));
    } catch (const std::exception &error) {
        m_message->setText(errorText(error));
    }
}

void LabelerView::startNextRound()
{
    if (!m_store || !m_store->isOpen() || m_roundJob->state() == JobRunner::State::Running)
        return;
    const QString location = m_store->location();
    if (StudyStore::isConnectionString(location)) {
        // location() masks the password: the job could not open the study.
        m_message->setText(tr("A shared (PostgreSQL) study's next round is started from the "
                              "command line: motionpref-cli study next-round STUDY --out DIR."));
        return;
    }
    const QFileInfo study(location);
    const QString dir = study.dir().filePath(
        QStringLiteral("%1-rounds/round-%2-%3")
            .arg(study.completeBaseName())
            .arg(roundStatus(*m_store).round + 1)
            .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss"))));
    if (!m_roundJob->start(JobRunner::defaultCliPath(),
                           {QStringLiteral("--quiet"), QStringLiteral("study"),
                            QStringLiteral("next-round"), study.absoluteFilePath(),
                            QStringLiteral("--out"), dir},
                           dir)) {
        m_message->setText(tr("Cannot start the next round: %1").arg(m_roundJob->errorString()));
        return;
    }
    m_nextRound->setEnabled(false);
    m_message->setText(tr("Training the next round in %1...").arg(dir));
}

void LabelerView::roundJobChanged()
{
    if (m_roundJob->state() != JobRunner::State::Finished)
        return;
    m_nextRound->setEnabled(true);
    const int before = m_store && m_store->isOpen() ? roundStatus(*m_store).round : 0;
    refresh();
    QFile log(m_roundJob->logPath());
    const QString text =
        log.open(QIODevice::ReadOnly) ? QString::fromUtf8(log.readAll()).trimmed() : QString();
    m_message->setText(text.isEmpty() ? tr("The round's job ended (round %1).").arg(before)
                                      : text.section(QLatin1Char('\n'), -1));
}

} // namespace mp
