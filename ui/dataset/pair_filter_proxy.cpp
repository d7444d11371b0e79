#include "ui/dataset/pair_filter_proxy.h"

#include "app/study/pair_table_model.h"
#include "app/study/study_types.h"

namespace mp {

PairFilterProxy::PairFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(PairTableModel::SortRole);
}

void PairFilterProxy::setDegree(int degree)
{
    m_degree = degree;
    invalidateRowsFilter();
}

void PairFilterProxy::setLabeler(const QString &labeler)
{
    m_labeler = labeler;
    invalidateRowsFilter();
}

void PairFilterProxy::setSplit(const QString &split)
{
    m_split = split;
    invalidateRowsFilter();
}

void PairFilterProxy::setText(const QString &text)
{
    m_text = text.trimmed();
    invalidateRowsFilter();
}

bool PairFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const int choice = index.data(PairTableModel::ChoiceRole).toInt();
    const int degree = index.data(PairTableModel::DegreeRole).toInt();
    if (m_degree == kUnlabeledOnly && choice != -1)
        return false;
    if (m_degree == kSkippedOnly && choice != static_cast<int>(Choice::Skipped))
        return false;
    if (m_degree >= 0 && degree != m_degree)
        return false;
    if (!m_labeler.isEmpty() && index.data(PairTableModel::LabelerRole).toString() != m_labeler)
        return false;
    if (!m_split.isEmpty()) {
        const QString split = index.data(PairTableModel::SplitRole).toString();
        if (m_split == QLatin1String("none") ? !split.isEmpty() : split != m_split)
            return false;
    }
    if (!m_text.isEmpty()) {
        const QModelIndex prompt =
            sourceModel()->index(sourceRow, PairTableModel::PromptColumn, sourceParent);
        const QString haystack =
            prompt.data().toString() + QLatin1Char(' ') + index.data(Qt::ToolTipRole).toString();
        if (!haystack.contains(m_text, Qt::CaseInsensitive))
            return false;
    }
    return true;
}

} // namespace mp
