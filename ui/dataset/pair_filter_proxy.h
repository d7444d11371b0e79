#pragma once
// Filters the Dataset panel's pair table by degree, labeler, split and free text.

#include <QSortFilterProxyModel>

namespace mp {

class PairFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    // Degree filter values beyond the 0..3 Degree scale.
    static constexpr int kAnyDegree = -100;
    static constexpr int kSkippedOnly = -2;
    static constexpr int kUnlabeledOnly = -3;

    explicit PairFilterProxy(QObject *parent = nullptr);

    void setDegree(int degree);              // kAnyDegree, 0..3, kSkippedOnly, kUnlabeledOnly
    void setLabeler(const QString &labeler); // "" = any
    void setSplit(const QString &split);     // "" = any, "train", "test", "none"
    void setText(const QString &text);       // case-insensitive, in prompt and comment

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    int m_degree = kAnyDegree;
    QString m_labeler;
    QString m_split;
    QString m_text;
};

} // namespace mp
