#include "app/compare/compare_generator.h"

#include "app/core/error_text.h"

#include <QElapsedTimer>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>

namespace mp {

namespace {
MotionPairResult runRequest(ModelCache &models, const MotionPairRequest &request)
{
    MotionPairResult result;
    result.request = request;
    QElapsedTimer timer;
    timer.start();
    try {
        const auto modelA = models.get(request.modelA);
        result.descriptionA = modelA->description();
        const auto modelB = models.get(request.modelB);
        result.descriptionB = modelB->description();
        // The same seed for both: any difference comes from the models.
        result.motionA = modelA->generate(request.prompt, request.seed, request.temperature);
        result.motionB = modelB->generate(request.prompt, request.seed, request.temperature);
    } catch (const std::exception &error) {
        result.error = errorText(error);
    }
    result.seconds = timer.elapsed() / 1000.0;
    return result;
}
} // namespace

CompareGenerator::CompareGenerator(const QString &device, QObject *parent)
    : QObject(parent), m_models(device)
{
    qRegisterMetaType<mp::MotionPairResult>();
}

CompareGenerator::~CompareGenerator()
{
    m_queue.clear();
    if (m_active)
        m_active->waitForFinished();
}

void CompareGenerator::submit(const MotionPairRequest &request)
{
    m_queue.append(request);
    startNext();
}

void CompareGenerator::dropQueued(const QString &keyPrefix)
{
    m_queue.removeIf(
        [&](const MotionPairRequest &request) { return request.key.startsWith(keyPrefix); });
}

bool CompareGenerator::isQueued(const QString &key) const
{
    for (const MotionPairRequest &request : m_queue)
        if (request.key == key)
            return true;
    return false;
}

void CompareGenerator::startNext()
{
    if (m_queue.isEmpty() || m_active)
        return;
    const MotionPairRequest request = m_queue.takeFirst();
    m_running = request.key;
    // Busy until the result is delivered, not merely computed: a watcher whose future is done
    // but whose finished() is still queued loses that signal if given a new future.
    auto *watcher = new QFutureWatcher<MotionPairResult>(this);
    m_active = watcher;
    connect(watcher, &QFutureWatcher<MotionPairResult>::finished, this, [this, watcher] {
        const MotionPairResult result = watcher->result();
        watcher->deleteLater();
        m_active = nullptr;
        m_running.clear();
        startNext(); // before reporting: a slot may submit, and the queue keeps its order
        emit finished(result);
    });
    ModelCache *models = &m_models;
    watcher->setFuture(
        QtConcurrent::run([models, request] { return runRequest(*models, request); }));
}

} // namespace mp
