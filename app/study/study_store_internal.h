#pragma once
// Shared by the StudyStore implementation files only (study_store.cpp, study_store_labels.cpp):
// SQL value helpers and the nested write transaction.

#include "app/study/study_store.h"

#include <QDateTime>
#include <QSqlQuery>
#include <QVariant>

#include <stdexcept>

namespace mp {

namespace studysql {

// Times are integer milliseconds since the epoch, UTC.
inline qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

inline QVariant nullInt()
{
    return QVariant(QMetaType::fromType<qlonglong>());
}
inline QVariant nullText()
{
    return QVariant(QMetaType::fromType<QString>());
}
inline QVariant textOrNull(const QString &text)
{
    return text.isEmpty() ? nullText() : QVariant(text);
}
inline QVariant intOrNull(std::optional<qint64> value)
{
    return value ? QVariant(*value) : nullInt();
}

inline std::optional<qint64> optionalInt(const QVariant &value)
{
    if (value.isNull())
        return std::nullopt;
    return value.toLongLong();
}

} // namespace studysql

// Nested-aware write transaction: the outermost one begins and commits, an inner failure marks
// the whole transaction broken so that it rolls back even if a caller swallowed the exception.
class StudyStore::Transaction {
public:
    explicit Transaction(StudyStore &store) : m_store(store)
    {
        m_store.requireOpen();
        if (m_store.m_txDepth == 0) {
            m_store.exec(m_store.m_dialect->beginWrite());
            m_store.m_txBroken = false;
        }
        ++m_store.m_txDepth;
    }
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    void commit()
    {
        if (m_store.m_txDepth == 1) {
            if (m_store.m_txBroken)
                throw std::runtime_error("study: a write inside this transaction failed");
            m_store.exec(QStringLiteral("COMMIT"));
        }
        --m_store.m_txDepth;
        m_done = true;
        if (m_store.m_txDepth == 0) {
            auto callbacks = std::move(m_store.m_afterCommit);
            m_store.m_afterCommit.clear();
            for (const auto &callback : callbacks)
                callback();
        }
    }

    ~Transaction()
    {
        if (m_done)
            return;
        if (--m_store.m_txDepth == 0) {
            QSqlQuery(m_store.m_db).exec(QStringLiteral("ROLLBACK"));
            m_store.m_afterCommit.clear();
        } else {
            m_store.m_txBroken = true;
        }
    }

private:
    StudyStore &m_store;
    bool m_done = false;
};

} // namespace mp
