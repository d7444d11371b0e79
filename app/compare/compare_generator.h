#pragma once
// Generates A's and B's motion for one prompt, seed and temperature on a worker thread, one
// request at a time in submission order, and reports each result by a signal on the owner's
// thread. Models are loaded on first use and kept (ModelCache), so only the first request of a
// model waits for its loading. The Compare panel's side-by-side view and blind A/B trials share
// one generator.

#include "app/compare/ab_session.h"
#include "app/compare/compare_model.h"

#include <QFutureWatcher>
#include <QList>
#include <QObject>
#include <QString>

#include <cstdint>

namespace mp {

struct MotionPairRequest {
    QString key; // the caller's name for the request ("side", "trial:3:12"), echoed back
    AbModelRef modelA;
    AbModelRef modelB;
    QString prompt;
    std::uint64_t seed = 0;
    double temperature = 1.0;
};

struct MotionPairResult {
    MotionPairRequest request;
    GeneratedMotion motionA;
    GeneratedMotion motionB;
    QString descriptionA; // CompareModel::description()
    QString descriptionB;
    QString error; // empty on success; else the message (names the file for a bad model)
    double seconds = 0.0;

    bool ok() const { return error.isEmpty(); }
};

class CompareGenerator : public QObject {
    Q_OBJECT
public:
    explicit CompareGenerator(const QString &device = QStringLiteral("cpu"),
                              QObject *parent = nullptr);
    ~CompareGenerator() override; // waits for the running request

    void submit(const MotionPairRequest &request);
    // Drops queued requests whose key starts with prefix (the running one still reports).
    void dropQueued(const QString &keyPrefix);
    bool isBusy() const { return m_active != nullptr; }
    bool isQueued(const QString &key) const;
    QString runningKey() const { return m_running; }
    ModelCache &models() { return m_models; }

signals:
    void finished(const mp::MotionPairResult &result);

private:
    void startNext();

    ModelCache m_models;
    QList<MotionPairRequest> m_queue;
    QString m_running;
    QFutureWatcher<MotionPairResult> *m_active = nullptr; // the running request's
};

} // namespace mp
Q_DECLARE_METATYPE(mp::MotionPairResult)
