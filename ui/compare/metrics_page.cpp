#include "ui/compare/metrics_page.h"

#include "app/compare/compare_model.h"
#include "app/compare/model_metrics.h"
#include "app/core/error_text.h"
#include "ml/core/error.h"
#include "ui/compare/model_picker.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <optional>

namespace mp {

namespace {
const char *const kModelNames[2] = {"A", "B"};

QTableWidgetItem *cell(const QString &text, bool bold = false, bool dim = false)
{
    auto *item = new QTableWidgetItem(text);
    item->setTextAlignment(Qt::AlignCenter);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    if (bold) {
        QFont font = item->font();
        font.setBold(true);
        item->setFont(font);
    }
    if (dim)
        item->setForeground(QColor(0x80, 0x80, 0x80));
    return item;
}
} // namespace

MetricsPage::MetricsPage(ModelPicker *pickerA, ModelPicker *pickerB, QWidget *parent)
    : QWidget(parent), m_pickers{pickerA, pickerB}
{
    setObjectName(QStringLiteral("metricsPage"));
    m_table = new QTableWidget(static_cast<int>(compareMetricRows().size()), 3, this);
    m_table->setObjectName(QStringLiteral("metricsTable"));
    QStringList rowTitles;
    for (const MetricRow &row : compareMetricRows())
        rowTitles << row.title;
    m_table->setVerticalHeaderLabels(rowTitles);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setToolTip(tr("mean ± 95% confidence interval over the evaluation's replications; "
                           "↑ higher is better, ↓ lower is better, → closer to the real "
                           "motions is better; the better of A and B in bold"));

    auto *chooseA = new QPushButton(tr("A's metrics.json..."), this);
    chooseA->setToolTip(tr("Choose the metrics file of model A (motionpref-cli eval --out)"));
    auto *chooseB = new QPushButton(tr("B's metrics.json..."), this);
    chooseB->setToolTip(tr("Choose the metrics file of model B (motionpref-cli eval --out)"));
    auto *reload = new QPushButton(tr("Reload"), this);
    reload->setToolTip(tr("Read the files again and look for new ones next to the models"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(chooseA);
    buttons->addWidget(chooseB);
    buttons->addStretch(1);
    buttons->addWidget(reload);

    m_notes = new QLabel(this);
    m_notes->setObjectName(QStringLiteral("metricsNotes"));
    m_notes->setWordWrap(true);
    m_notes->setTextFormat(Qt::RichText);
    m_notes->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_notes->setAlignment(Qt::AlignTop | Qt::AlignLeft);

    // The table as tall as its rows, the notes right under it.
    m_table->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    m_table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_table->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Maximum);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_table);
    layout->addLayout(buttons);
    layout->addWidget(m_notes);
    layout->addStretch(1);

    connect(chooseA, &QPushButton::clicked, this, [this] { chooseFile(0); });
    connect(chooseB, &QPushButton::clicked, this, [this] { chooseFile(1); });
    connect(reload, &QPushButton::clicked, this, &MetricsPage::refresh);
    for (int model = 0; model < 2; ++model)
        connect(m_pickers[model], &ModelPicker::modelChanged, this, [this, model] {
            m_chosen[model].clear(); // a chosen file belongs to the model it was chosen for
            refresh();
        });
    refresh();
}

MetricsPage::~MetricsPage() = default;

QString MetricsPage::metricsFile(int model) const
{
    return m_used[model];
}

QString MetricsPage::notesText() const
{
    return m_notes->text();
}

bool MetricsPage::setMetricsFile(int model, const QString &path)
{
    m_chosen[model] = path;
    refresh(); // an unreadable file shows as such, with the reason in the notes
    return m_used[model] == path;
}

void MetricsPage::chooseFile(int model)
{
    const AbModelRef ref = m_pickers[model]->model();
    const QString start = ref.adapterDir.isEmpty() ? ref.bundleDir : ref.adapterDir;
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Metrics of model %1").arg(QLatin1String(kModelNames[model])), start,
        tr("Metrics (*.json);;All files (*)"));
    if (!path.isEmpty())
        setMetricsFile(model, path);
}

void MetricsPage::refresh()
{
    std::optional<ModelMetrics> metrics[2];
    QStringList notes;
    for (int model = 0; model < 2; ++model) {
        const AbModelRef ref = m_pickers[model]->model();
        const QString name =
            QStringLiteral("%1 (%2)").arg(QLatin1String(kModelNames[model]), modelDisplayName(ref));
        m_table->setHorizontalHeaderItem(
            model, new QTableWidgetItem(
                       tr("%1: %2").arg(QLatin1String(kModelNames[model]), modelDisplayName(ref))));
        const QString path = m_chosen[model].isEmpty()
                                 ? findModelMetrics(ref.bundleDir, ref.adapterDir)
                                 : m_chosen[model];
        m_used[model].clear();
        if (path.isEmpty()) {
            notes << tr("<b>%1 has no metrics yet</b> (no metrics.json in %2). Compute them "
                        "with<br><code>%3</code><br>on a HumanML3D-layout dataset (the real "
                        "HumanML3D, or a corpus from <code>motionpref-cli corpus build</code>), "
                        "then press Reload; or choose the file if it lies elsewhere.")
                         .arg(name.toHtmlEscaped(),
                              metricsCandidates(ref.bundleDir, ref.adapterDir)
                                  .join(tr(" or "))
                                  .toHtmlEscaped(),
                              evalCommandFor(ref.bundleDir, ref.adapterDir).toHtmlEscaped());
            continue;
        }
        try {
            metrics[model] = readModelMetrics(path);
            m_used[model] = path;
            const int replications = metrics[model]->replications;
            notes << tr("%1: %2").arg(name.toHtmlEscaped(),
                                      QDir::toNativeSeparators(path).toHtmlEscaped()) +
                         (replications > 0 ? tr(" (%1 replications).").arg(replications)
                                           : QStringLiteral("."));
        } catch (const InputError &error) {
            notes << tr("<span style='color:#a00000'>%1: %2</span>")
                         .arg(name.toHtmlEscaped(), errorText(error).toHtmlEscaped());
        }
    }
    m_table->setHorizontalHeaderItem(2, new QTableWidgetItem(tr("Real motions")));

    const ModelMetrics *real = nullptr; // gt_* values, from whichever file has them
    for (const auto &m : metrics)
        if (!real && m && m->has(QStringLiteral("gt_R_precision_top_1")))
            real = &*m;
    const QList<MetricRow> &rows = compareMetricRows();
    for (int row = 0; row < rows.size(); ++row) {
        const MetricRow &metric = rows[row];
        const bool both =
            metrics[0] && metrics[1] && metrics[0]->has(metric.key) && metrics[1]->has(metric.key);
        int better = -1;
        if (both && (metric.higherIsBetter || metric.lowerIsBetter)) {
            const double a = metrics[0]->metrics.value(metric.key).mean;
            const double b = metrics[1]->metrics.value(metric.key).mean;
            if (a != b)
                better = ((a > b) == metric.higherIsBetter) ? 0 : 1;
        }
        for (int model = 0; model < 2; ++model) {
            QString text = QStringLiteral("—");
            if (!metrics[model])
                text = m_used[model].isEmpty() && !m_chosen[model].isEmpty() ? tr("unreadable")
                                                                             : tr("no metrics yet");
            else if (metrics[model]->has(metric.key))
                text = metrics[model]->format(metric.key);
            m_table->setItem(
                row, model,
                cell(text, better == model, !metrics[model] || !metrics[model]->has(metric.key)));
        }
        const QString gtKey = QStringLiteral("gt_") + metric.key;
        m_table->setItem(row, 2,
                         cell(real && real->has(gtKey) ? real->format(gtKey) : QStringLiteral("—"),
                              false, true));
    }
    m_notes->setText(notes.join(QStringLiteral("<br><br>")));
}

} // namespace mp
