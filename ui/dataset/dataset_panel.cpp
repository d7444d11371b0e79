#include "ui/dataset/dataset_panel.h"

#include "app/core/error_text.h"
#include "app/core/settings.h"
#include "app/study/agreement.h"
#include "app/study/pair_table_model.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ui/dataset/labeler_view.h"
#include "ui/dataset/pair_filter_proxy.h"
#include "ui/dataset/revise_label_dialog.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>

namespace mp {

DatasetPanel::DatasetPanel(Settings &settings, QWidget *parent)
    : QWidget(parent), m_settings(settings), m_model(new PairTableModel(this)),
      m_filter(new PairFilterProxy(this))
{
    setObjectName(QStringLiteral("datasetPanel"));
    m_filter->setSourceModel(m_model);

    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search prompts and comments"));
    m_search->setClearButtonEnabled(true);
    m_degree = new QComboBox(this);
    m_degree->addItem(tr("Any degree"), PairFilterProxy::kAnyDegree);
    for (PreferenceDegree degree : kAllDegrees)
        m_degree->addItem(degreeName(degree), static_cast<int>(degree));
    m_degree->addItem(tr("Skipped"), PairFilterProxy::kSkippedOnly);
    m_degree->addItem(tr("Unlabeled"), PairFilterProxy::kUnlabeledOnly);
    m_labeler = new QComboBox(this);
    m_split = new QComboBox(this);
    m_split->addItem(tr("Any split"), QString());
    m_split->addItem(tr("Train"), QStringLiteral("train"));
    m_split->addItem(tr("Test"), QStringLiteral("test"));
    m_split->addItem(tr("Not in the split"), QStringLiteral("none"));

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_search, 2);
    filters->addWidget(m_degree);
    filters->addWidget(m_labeler);
    filters->addWidget(m_split);

    m_table = new QTableView(this);
    m_table->setModel(m_filter);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(PairTableModel::PromptColumn,
                                                      QHeaderView::Stretch);
    m_table->sortByColumn(PairTableModel::PairColumn, Qt::AscendingOrder);

    m_agreement = new QTextBrowser(this);
    m_agreement->setObjectName(QStringLiteral("agreementSummary"));
    m_agreement->setMinimumWidth(280);

    auto *splitter = new QSplitter(this);
    splitter->addWidget(m_table);
    splitter->addWidget(m_agreement);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);

    m_summary = new QLabel(this);
    m_revise = new QPushButton(tr("&Revise label..."), this);
    m_revise->setToolTip(
        tr("Record a new label for the selected pair as %1; the old one stays in the history"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_summary, 1);
    buttons->addWidget(m_revise);

    // Pairs, and the labelers' measures (issue 22) in a second tab.
    auto *pairsPage = new QWidget(this);
    auto *pairsLayout = new QVBoxLayout(pairsPage);
    pairsLayout->setContentsMargins(0, 0, 0, 0);
    pairsLayout->addLayout(filters);
    pairsLayout->addWidget(splitter, 1);
    pairsLayout->addLayout(buttons);
    m_labelers = new LabelerView(this);
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("datasetTabs"));
    m_tabs->addTab(pairsPage, tr("&Pairs"));
    m_tabs->addTab(m_labelers, tr("La&belers"));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tabs, 1);

    connect(m_search, &QLineEdit::textChanged, m_filter, &PairFilterProxy::setText);
    connect(m_degree, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setDegree(m_degree->currentData().toInt()); });
    connect(m_labeler, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setLabeler(m_labeler->currentData().toString()); });
    connect(m_split, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setSplit(m_split->currentData().toString()); });
    connect(m_revise, &QPushButton::clicked, this, &DatasetPanel::reviseSelected);
    connect(m_table, &QTableView::doubleClicked, this, &DatasetPanel::reviseSelected);
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        refreshFilters();
        refreshAgreement();
        updateButtons();
    });
    // Queued: an edit in the labeler table itself changes the study, and its table must not be
    // refilled inside that edit's signal.
    connect(m_model, &QAbstractItemModel::modelReset, m_labelers, &LabelerView::refresh,
            Qt::QueuedConnection);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &DatasetPanel::updateButtons);
    setStore(nullptr);
}

void DatasetPanel::setStore(StudyStore *store)
{
    m_store = store;
    m_model->setStore(store);
    m_labelers->setStore(store);
    setEnabled(true);
    m_table->setEnabled(store != nullptr);
    if (!store)
        m_summary->setText(tr("No study is open: File > New Study or Open Study."));
}

void DatasetPanel::refreshFilters()
{
    const QString current = m_labeler->currentData().toString();
    QSignalBlocker block(m_labeler);
    m_labeler->clear();
    m_labeler->addItem(tr("Any labeler"), QString());
    if (m_store && m_store->isOpen())
        for (const QString &labeler : m_store->labelers())
            m_labeler->addItem(labeler, labeler);
    m_labeler->setCurrentIndex(std::max(0, m_labeler->findData(current)));
}

void DatasetPanel::refreshAgreement()
{
    if (!m_store || !m_store->isOpen()) {
        m_agreement->setHtml(tr("<p>No study is open.</p>"));
        return;
    }
    const StudyCounts counts = m_store->counts();
    m_summary->setText(tr("%1 pairs, %2 labeled, %3 skipped, %4 labelers")
                           .arg(counts.pairs)
                           .arg(counts.labeledPairs)
                           .arg(counts.skippedPairs)
                           .arg(counts.labelers));
    const AgreementReport report = computeAgreement(*m_store);
    const auto number = [](double value) {
        return std::isfinite(value) ? QString::number(value, 'f', 3) : QStringLiteral("n/a");
    };
    QString html = tr("<h3>Agreement</h3>");
    if (report.overlapPairs == 0) {
        html += tr("<p>No pair has labels from two labelers yet.</p>");
    } else {
        html +=
            tr("<p>%1 pairs labeled by two or more people.</p><table>").arg(report.overlapPairs);
        html += tr("<tr><td>Fleiss' &kappa;</td><td>%1</td></tr>").arg(number(report.fleissKappa));
        html += tr("<tr><td>Krippendorff's &alpha; (ordinal)</td><td>%1</td></tr>")
                    .arg(number(report.alphaOrdinal));
        html += tr("<tr><td>Krippendorff's &alpha; (nominal)</td><td>%1</td></tr>")
                    .arg(number(report.alphaNominal));
        for (const PairwiseKappa &pair : report.cohen)
            html += tr("<tr><td>Cohen's &kappa; %1 / %2 (%3)</td><td>%4</td></tr>")
                        .arg(pair.labelerA.toHtmlEscaped(), pair.labelerB.toHtmlEscaped())
                        .arg(pair.overlap)
                        .arg(number(pair.kappa));
        html += QStringLiteral("</table>");
    }
    html += tr("<h3>Labelers</h3><table><tr><th align=left>Labeler</th><th>Labels</th>"
               "<th>Left share</th><th>p (50/50)</th><th>Mean time (s)</th></tr>");
    for (const LabelerStats &stats : report.perLabeler) {
        const bool biased = stats.positionBiasP < 0.05;
        html += QStringLiteral("<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td>"
                               "<td align=right>%4%5</td><td align=right>%6</td></tr>")
                    .arg(stats.labeler.toHtmlEscaped())
                    .arg(stats.labels)
                    .arg(std::isfinite(stats.leftShare)
                             ? QString::number(100 * stats.leftShare, 'f', 0) + "%"
                             : QStringLiteral("n/a"))
                    .arg(number(stats.positionBiasP), biased ? tr(" (biased)") : QString())
                    .arg(stats.meanTimeOnTaskMs > 0
                             ? QString::number(stats.meanTimeOnTaskMs / 1000.0, 'f', 1)
                             : QStringLiteral("n/a"));
    }
    html += QStringLiteral("</table>");
    m_agreement->setHtml(html);
}

void DatasetPanel::updateButtons()
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    m_revise->setEnabled(m_store && m_store->isOpen() && rows.size() == 1);
    m_revise->setToolTip(tr("Record a new label for the selected pair as %1; the old one stays in "
                            "the history")
                             .arg(m_settings.labelerName()));
}

void DatasetPanel::reviseSelected()
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    if (!m_store || rows.size() != 1)
        return;
    const qint64 pairId = rows.first().data(PairTableModel::PairIdRole).toLongLong();
    const QString labeler = m_settings.labelerName();
    try {
        const PairInfo pair = m_store->pair(pairId);
        ReviseLabelDialog dialog(pair.promptText, m_store->currentLabel(pairId, labeler), this);
        if (dialog.exec() == QDialog::Accepted)
            m_store->addLabel(pairId, labeler, dialog.label());
    } catch (const std::exception &error) {
        QMessageBox::warning(this, tr("Revise label"), errorText(error));
    }
}

} // namespace mp
