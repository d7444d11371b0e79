#pragma once
// The study's pairs as a table for the Dataset panel: one row per current label (pair x
// labeler), plus one row for each pair nobody has labeled yet. Headless; filtering is done by
// proxy models in ui/ on the roles below.

#include "app/study/study_types.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QPointer>

#include <vector>

namespace mp {

class StudyStore;

class PairTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        PairColumn,
        PromptColumn,
        LabelerColumn,
        ChoiceColumn,
        DegreeColumn,
        ShownLeftColumn,
        TimeColumn,
        SplitColumn,
        LabeledAtColumn,
        ColumnCount
    };
    enum Role {
        PairIdRole = Qt::UserRole + 1,
        DegreeRole,  // int 0..3, -1 when none (unlabeled, skipped)
        ChoiceRole,  // int of Choice, -1 when unlabeled
        LabelerRole, // QString, empty when unlabeled
        SplitRole,   // "train", "test" or "" (not in the current split)
        LabelIdRole, // qint64, 0 when unlabeled
        SortRole,    // numbers as numbers (pair id, time, degree), text otherwise
    };

    explicit PairTableModel(QObject *parent = nullptr);

    // Shows the store's pairs (nullptr empties the table); reloads when the store changes.
    void setStore(StudyStore *store);
    // The saved split whose train/test membership the Split column shows ("" = the newest).
    void setSplitName(const QString &name);
    void reload();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    struct Row {
        PairInfo pair;
        std::optional<LabelRecord> label;
    };

    QPointer<StudyStore> m_store; // null once the store is gone (its destroyed() runs after)
    QString m_splitName;
    std::vector<Row> m_rows;
    QHash<qint64, QString> m_splitOfPair;
};

} // namespace mp
