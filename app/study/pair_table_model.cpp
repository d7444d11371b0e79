#include "app/study/pair_table_model.h"

#include "app/study/study_store.h"

#include <QDateTime>
#include <QSet>

namespace mp {

PairTableModel::PairTableModel(QObject *parent) : QAbstractTableModel(parent)
{
}

void PairTableModel::setStore(StudyStore *store)
{
    if (m_store)
        disconnect(m_store, nullptr, this, nullptr);
    m_store = store;
    if (m_store) {
        connect(m_store, &StudyStore::labelStored, this, &PairTableModel::reload);
        connect(m_store, &StudyStore::labelRetracted, this, &PairTableModel::reload);
        connect(m_store, &StudyStore::studyChanged, this, &PairTableModel::reload);
        connect(m_store, &QObject::destroyed, this, [this] { setStore(nullptr); });
    }
    reload();
}

void PairTableModel::setSplitName(const QString &name)
{
    m_splitName = name;
    reload();
}

void PairTableModel::reload()
{
    beginResetModel();
    m_rows.clear();
    m_splitOfPair.clear();
    if (m_store && m_store->isOpen()) {
        QString splitName = m_splitName;
        const QStringList names = m_store->splitNames();
        if (splitName.isEmpty() && !names.isEmpty())
            splitName = names.last();
        if (!splitName.isEmpty()) {
            if (const auto split = m_store->loadSplit(splitName)) {
                for (qint64 id : split->train)
                    m_splitOfPair.insert(id, QStringLiteral("train"));
                for (qint64 id : split->test)
                    m_splitOfPair.insert(id, QStringLiteral("test"));
            }
        }
        QHash<qint64, std::vector<LabelRecord>> labelsOfPair;
        for (LabelRecord &label : m_store->currentLabels())
            labelsOfPair[label.pairId].push_back(std::move(label));
        for (const PairInfo &pair : m_store->pairs()) {
            const auto found = labelsOfPair.find(pair.id);
            if (found == labelsOfPair.end() || found->empty()) {
                m_rows.push_back({pair, std::nullopt});
                continue;
            }
            for (const LabelRecord &label : *found)
                m_rows.push_back({pair, label});
        }
    }
    endResetModel();
}

int PairTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int PairTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PairTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= static_cast<int>(m_rows.size()))
        return {};
    const Row &row = m_rows[static_cast<std::size_t>(index.row())];
    const std::optional<LabelRecord> &label = row.label;
    switch (role) {
    case PairIdRole:
        return row.pair.id;
    case DegreeRole:
        return label && label->degree ? static_cast<int>(*label->degree) : -1;
    case ChoiceRole:
        return label && label->choice ? static_cast<int>(*label->choice) : -1;
    case LabelerRole:
        return label ? label->labeler : QString();
    case SplitRole:
        return m_splitOfPair.value(row.pair.id);
    case LabelIdRole:
        return label ? label->id : qint64(0);
    case SortRole:
        switch (index.column()) {
        case PairColumn:
            return row.pair.id;
        case DegreeColumn:
            return label && label->degree ? static_cast<int>(*label->degree) : -1;
        case TimeColumn:
            return label ? label->timeOnTaskMs : qint64(-1);
        case LabeledAtColumn:
            return label ? label->createdAtMs : qint64(0);
        default:
            return data(index, Qt::DisplayRole);
        }
    case Qt::ToolTipRole:
        if (index.column() == PromptColumn)
            return row.pair.promptText;
        if (label && !label->comment.isEmpty())
            return label->comment;
        return {};
    case Qt::DisplayRole:
        break;
    default:
        return {};
    }
    switch (index.column()) {
    case PairColumn:
        return row.pair.externalId.isEmpty()
                   ? QString::number(row.pair.id)
                   : QStringLiteral("%1 (%2)").arg(row.pair.id).arg(row.pair.externalId);
    case PromptColumn:
        return row.pair.promptText;
    case LabelerColumn:
        return label ? label->labeler : tr("unlabeled");
    case ChoiceColumn:
        if (!label || !label->choice)
            return {};
        if (*label->choice == Choice::Skipped)
            return tr("skipped: %1").arg(skipReasonName(label->skipReason));
        return choiceName(*label->choice);
    case DegreeColumn:
        return label && label->degree ? degreeName(*label->degree) : QString();
    case ShownLeftColumn:
        return QStringLiteral("sample_%1").arg(row.pair.leftSample);
    case TimeColumn:
        return label && label->timeOnTaskMs > 0
                   ? QString::number(label->timeOnTaskMs / 1000.0, 'f', 1)
                   : QString();
    case SplitColumn:
        return m_splitOfPair.value(row.pair.id);
    case LabeledAtColumn:
        return label ? QDateTime::fromMSecsSinceEpoch(label->createdAtMs)
                           .toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                     : QString();
    default:
        return {};
    }
}

QVariant PairTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case PairColumn:
        return tr("Pair");
    case PromptColumn:
        return tr("Prompt");
    case LabelerColumn:
        return tr("Labeler");
    case ChoiceColumn:
        return tr("Choice");
    case DegreeColumn:
        return tr("Degree");
    case ShownLeftColumn:
        return tr("Shown left");
    case TimeColumn:
        return tr("Time (s)");
    case SplitColumn:
        return tr("Split");
    case LabeledAtColumn:
        return tr("Labeled at");
    default:
        return {};
    }
}

} // namespace mp
