#include "app/study/label_session.h"

#include "app/core/error_text.h"
#include "app/study/label_write_queue.h"

#include "app/study/active_pairs.h"
#include "app/study/check_pairs.h"
#include "app/study/sample_motion.h"
#include "app/study/study_rounds.h"
#include "app/study/study_store.h"
#include "ml/core/device.h"
#include "ml/core/error.h"

#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTextStream>

#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <utility>

// LibTorch's jit headers have a member named slots(), which Qt's keyword macro would eat.
#pragma push_macro("slots")
#undef slots
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#pragma pop_macro("slots")

#include <mutex>

namespace mp {

namespace {
// Labeled pairs kept with their motions, so an undo shows them again without decoding.
constexpr std::size_t kHistorySize = 64;
// Seeds stay below 2^31: they are stored as signed integers and read back by Python tools.
constexpr quint32 kSeedBound = 0x7fffffff;

QString quoted(const QString &text)
{
    return QStringLiteral("\u201c%1\u201d").arg(text);
}
} // namespace

// One bundle, used by one worker job at a time.
struct LabelSession::LoadedModel {
    std::unique_ptr<ModelBundle> bundle;
    ModelIdentity identity;
    QString dir;
    QString adapterDir;
    SelectionState selection; // prompts chosen so far (diversity) and the pick's draw
    std::mutex mutex;
};

LabelSession::LabelSession(QObject *parent) : QObject(parent)
{
    connect(&m_modelWatcher, &QFutureWatcher<ModelResult>::finished, this,
            &LabelSession::onModelLoaded);
    connect(&m_generationWatcher, &QFutureWatcher<GenerationResult>::finished, this,
            &LabelSession::onGenerated);
    connect(&m_storedWatcher, &QFutureWatcher<StoredResult>::finished, this,
            &LabelSession::onStoredLoaded);
    m_waiting = tr("No study is open.");
    m_writes = new LabelWriteQueue(this);
    connect(m_writes, &LabelWriteQueue::failed, this, &LabelSession::errorOccurred);
    connect(m_writes, &LabelWriteQueue::pendingChanged, this, &LabelSession::progressChanged);
}

LabelSession::~LabelSession()
{
    m_modelWatcher.waitForFinished();
    m_generationWatcher.waitForFinished();
    m_storedWatcher.waitForFinished();
}

void LabelSession::setStore(StudyStore *store)
{
    if (store && store->isOpen())
        store->setBusyTimeoutMs(kBusyTimeoutMs);
    m_writes->setStore(store);
    m_store = store;
    m_history.clear();
    m_returns.clear();
    m_labeledThisSession = 0;
    m_labelMsTotal = 0;
    resetQueue(Mode::Idle, QString());
    advance();
}

void LabelSession::setLabeler(const QString &labeler)
{
    const QString previous = m_labeler;
    m_labeler = labeler.trimmed();
    // A study pair is held in the previous name: hand it back and take one as the new name.
    if (m_mode == Mode::Study && m_current && m_store && previous != m_labeler) {
        try {
            m_store->releaseAssignment(m_current->pairId, previous);
        } catch (const std::exception &) {
            // Not held (already labeled or reclaimed): nothing to release.
        }
        advance();
    }
}

QString LabelSession::modelName() const
{
    return QFileInfo(m_modelDir).fileName();
}

void LabelSession::setModelDir(const QString &dir, const QString &device, bool loadNow)
{
    if (dir == m_modelDir && device == m_device && m_modelState != ModelState::Failed) {
        if (loadNow)
            loadModel();
        return;
    }
    m_modelDir = dir;
    m_device = device;
    m_model.reset();
    dropPrefetched(); // made by the previous model
    m_modelState = ModelState::NotLoaded;
    m_modelMessage.clear();
    emit modelStateChanged();
    if (loadNow || m_mode == Mode::Typed || m_mode == Mode::List)
        loadModel();
}

void LabelSession::setAdapterDir(const QString &dir)
{
    if (dir == m_adapterDir)
        return;
    m_adapterDir = dir;
    if (m_modelState == ModelState::NotLoaded)
        return; // loaded with the adapter when needed
    m_model.reset();
    dropPrefetched(); // made by the previous sampler
    m_modelState = ModelState::NotLoaded;
    m_modelMessage.clear();
    emit modelStateChanged();
    if (m_mode == Mode::Typed || m_mode == Mode::List)
        loadModel();
}

bool LabelSession::syncRound()
{
    if (!m_store || !m_store->isOpen())
        return false;
    const RoundStatus status = roundStatus(*m_store);
    const QString dir = status.adapter ? status.adapter->path : QString();
    if (dir == m_adapterDir)
        return false;
    setAdapterDir(dir);
    return true;
}

void LabelSession::loadModel()
{
    if (m_modelState == ModelState::Loading || m_modelState == ModelState::Ready)
        return;
    m_modelState = ModelState::Loading;
    m_modelMessage = tr("Loading the model from %1...").arg(m_modelDir);
    emit modelStateChanged();
    if (m_modelJobRunning)
        return; // onModelLoaded starts the load of the directory chosen meanwhile
    const QString dir = m_modelDir;
    const QString device = m_device;
    const QString adapterDir = m_adapterDir;
    m_modelJobRunning = true;
    m_modelWatcher.setFuture(QtConcurrent::run([dir, device, adapterDir]() -> ModelResult {
        try {
            if (dir.isEmpty())
                throw InputError("no model directory is set");
            auto model = std::make_shared<LoadedModel>();
            model->dir = dir;
            model->bundle = std::make_unique<ModelBundle>(dir.toStdString(),
                                                          resolveDevice(device.toStdString()));
            model->identity = ModelIdentity::ofDirectory(dir);
            if (!adapterDir.isEmpty()) {
                loadLoraAdapter(*model->bundle->t5(), adapterDir.toStdString());
                model->bundle->t5()->eval();
                model->adapterDir = adapterDir;
                model->identity.adapterName = QFileInfo(adapterDir).fileName();
                model->identity.adapterPath = QFileInfo(adapterDir).absoluteFilePath();
                model->identity.adapterHash = StudyStore::contentHash(adapterDir);
            }
            return {model, dir, adapterDir, QString()};
        } catch (const std::exception &error) {
            // The bundle's errors usually start with the directory already.
            const QString what = errorText(error);
            return {nullptr, dir, adapterDir,
                    what.contains(dir) && !dir.isEmpty()
                        ? tr("Cannot load the model: %1").arg(what)
                        : tr("Cannot load the model from %1: %2")
                              .arg(dir.isEmpty() ? tr("(none)") : dir, what)};
        }
    }));
}

void LabelSession::onModelLoaded()
{
    m_modelJobRunning = false;
    ModelResult result = m_modelWatcher.result();
    if (result.dir != m_modelDir || result.adapterDir != m_adapterDir) {
        // The directory or adapter changed while this one loaded: load the new one.
        m_modelState = ModelState::NotLoaded;
        loadModel();
        return;
    }
    if (!result.model) {
        m_modelState = ModelState::Failed;
        m_modelMessage = result.error;
        emit modelStateChanged();
        if (m_waitingForModel) {
            const qint64 pairId = m_waitingForModel->pairId;
            Item item = m_waitingForModel->item;
            m_waitingForModel.reset();
            setCurrent(item);
            emit errorOccurred(tr("Pair %1 has only motion codes and the model did not load: %2")
                                   .arg(pairId)
                                   .arg(result.error));
        } else if (!m_current && (m_mode == Mode::Typed || m_mode == Mode::List)) {
            setCurrent(std::nullopt, result.error);
        }
        return;
    }
    m_model = std::move(result.model);
    m_modelState = ModelState::Ready;
    m_modelMessage = tr("Model %1 loaded from %2").arg(modelName(), m_modelDir);
    emit modelStateChanged();
    if (!m_current && !m_waitingForModel && (m_mode == Mode::Typed || m_mode == Mode::List))
        setCurrent(std::nullopt, waitingForGeneration());
    if (m_waitingForModel) {
        StoredRequest request = std::move(*m_waitingForModel);
        m_waitingForModel.reset();
        runStoredRequest(std::move(request));
    }
    ensureGenerating();
}

void LabelSession::resetQueue(Mode mode, const QString &sourceName)
{
    // The pair on screen is dropped unlabeled; a study pair stays held by this labeler and
    // comes back first when the study queue is chosen again (or after the reclaim time).
    ++m_epoch;
    m_mode = mode;
    m_sourceName = sourceName;
    m_ready.clear();
    m_typedPrompt.clear();
    m_typedPromptId = 0;
    m_list.clear();
    m_listNext = 0;
    m_waitingForModel.reset();
    m_pendingStored.reset();
    m_loadingPairId = 0;
    ++m_storedTicket;
    m_current.reset();
}

void LabelSession::startTyped(const QString &prompt)
{
    const QString text = prompt.simplified();
    if (text.isEmpty())
        return;
    resetQueue(Mode::Typed, text);
    m_typedPrompt = text;
    advance();
}

void LabelSession::startList(const QStringList &prompts, const QString &name)
{
    resetQueue(Mode::List, name);
    m_list = prompts;
    advance();
}

QStringList LabelSession::readPromptList(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        throw InputError(path.toStdString() + ": " + file.errorString().toStdString());
    QStringList prompts;
    QTextStream in(&file);
    while (!in.atEnd()) {
        const QString line = in.readLine().simplified();
        if (!line.isEmpty() && !line.startsWith(QLatin1Char('#')))
            prompts << line;
    }
    if (prompts.isEmpty())
        throw InputError(path.toStdString() + ": no prompt in the file (one prompt per line)");
    return prompts;
}

void LabelSession::startStudy()
{
    resetQueue(Mode::Study, tr("study"));
    advance();
}

void LabelSession::stop()
{
    resetQueue(Mode::Idle, QString());
    advance();
}

bool LabelSession::isBusy() const
{
    return m_modelJobRunning || m_generationJobRunning || m_storedJobRunning;
}

LabelSession::Progress LabelSession::progress() const
{
    Progress progress;
    progress.labeledThisSession = m_labeledThisSession;
    progress.meanMsPerLabel =
        m_labeledThisSession > 0 ? double(m_labelMsTotal) / m_labeledThisSession : 0.0;
    if (m_mode == Mode::List) {
        progress.total = int(m_list.size());
        progress.position = m_current && m_current->listIndex >= 0
                                ? m_current->listIndex + 1
                                : std::min(m_listNext, progress.total);
    }
    if (m_store && m_store->isOpen()) {
        try {
            const RoundStatus round = roundStatus(*m_store);
            progress.round = round.round;
            progress.labelsThisRound = round.labelsThisRound;
        } catch (const std::exception &) {
            // As below: the next label reports a read error.
        }
    }
    if (m_mode == Mode::Study && m_store && m_store->isOpen()) {
        try {
            const StudyCounts counts = m_store->counts();
            progress.total = int(counts.pairs);
            progress.position = int(counts.labeledPairs);
        } catch (const std::exception &) {
            // A read error shows no count; the next label reports it.
        }
    }
    return progress;
}

void LabelSession::setCurrent(std::optional<Item> item, const QString &waiting)
{
    m_current = std::move(item);
    m_waiting = waiting;
    if (m_current)
        m_shownAt.start();
    emit currentChanged();
    emit progressChanged();
}

void LabelSession::fail(const QString &message)
{
    if (!m_current)
        setCurrent(std::nullopt, message);
    emit errorOccurred(message);
}

void LabelSession::setLabelDetails(std::vector<ReasonTag> tags, std::optional<bool> watchedBoth)
{
    m_nextTags = std::move(tags);
    m_nextWatchedBoth = watchedBoth;
}

void LabelSession::advance()
{
    m_current.reset();
    if (!m_store || !m_store->isOpen()) {
        setCurrent(std::nullopt, tr("No study is open."));
        return;
    }
    if (!m_returns.empty()) {
        const qint64 pairId = m_returns.front();
        m_returns.pop_front();
        showStoredPair(pairId);
        return;
    }
    switch (m_mode) {
    case Mode::Idle:
        setCurrent(std::nullopt,
                   tr("Type a prompt, open a prompt list, or label the study's own pairs."));
        return;
    case Mode::Typed:
    case Mode::List:
        if (showReady())
            break;
        ensureGenerating(); // loads the model first when needed
        if (m_mode == Mode::List && m_listNext >= m_list.size() && !m_generationJobRunning)
            setCurrent(std::nullopt, tr("The prompt list is done: %1 prompts.").arg(m_list.size()));
        else
            setCurrent(std::nullopt, waitingForGeneration());
        return;
    case Mode::Study:
        // A label still queued behind a lock leaves its pair unlabeled, and the store would hand
        // that same pair back: wait until the queue is empty.
        if (writeQueue()->pendingCount() > 0) {
            retryAfterLock(tr("to hand out the next pair"));
            return;
        }
        try {
            const std::optional<PairInfo> next =
                assignNextWithChecks(*m_store, m_labeler, m_checkRng);
            if (next)
                showStoredPair(next->id);
            else
                setCurrent(std::nullopt, tr("Every pair of the study is labeled or held by "
                                            "another labeler."));
        } catch (const StudyBusyError &) {
            retryAfterLock(tr("to hand out the next pair"));
        } catch (const std::exception &error) {
            fail(errorText(error));
        }
        return;
    }
    ensureGenerating();
}

void LabelSession::retryAfterLock(const QString &what)
{
    setCurrent(std::nullopt,
               tr("The study is locked by another program; waiting for it %1...").arg(what));
    if (m_lockRetryPending)
        return;
    m_lockRetryPending = true;
    QTimer::singleShot(LabelWriteQueue::kRetryMs, this, [this] {
        m_lockRetryPending = false;
        if (!m_current)
            advance();
    });
}

QString LabelSession::waitingForGeneration() const
{
    switch (m_modelState) {
    case ModelState::NotLoaded:
    case ModelState::Loading:
        return tr("Loading the model from %1...").arg(m_modelDir);
    case ModelState::Failed:
        return m_modelMessage;
    case ModelState::Ready:
        break;
    }
    return tr("Generating the next pair...");
}

void LabelSession::dropPrefetched()
{
    // Prompts of the list that were generated (or are being generated) come again.
    int rewind = m_listNext;
    for (const auto &ready : m_ready)
        if (ready.second >= 0)
            rewind = std::min(rewind, ready.second);
    if (m_generationJobRunning && m_generatingListIndex >= 0)
        rewind = std::min(rewind, m_generatingListIndex);
    m_listNext = rewind;
    m_ready.clear();
    ++m_epoch; // a pair being generated now is dropped when it arrives
}

void LabelSession::setSampling(const PairSampling &sampling)
{
    const bool changed = sampling.temperature != m_sampling.temperature ||
                         sampling.topK != m_sampling.topK || sampling.topP != m_sampling.topP ||
                         sampling.maxMotionTokens != m_sampling.maxMotionTokens ||
                         sampling.int8Weights != m_sampling.int8Weights;
    m_sampling = sampling;
    if (!changed)
        return;
    dropPrefetched(); // the next pair is made with the new values
    ensureGenerating();
}

void LabelSession::ensureGenerating()
{
    if ((m_mode != Mode::Typed && m_mode != Mode::List) || !m_store || !m_store->isOpen())
        return;
    if (m_generationJobRunning || int(m_ready.size()) >= kPrefetchDepth)
        return;
    if (m_mode == Mode::List && m_listNext >= m_list.size())
        return;
    PairSelectionSettings selection;
    std::filesystem::path ensembleDir;
    try {
        syncRound(); // a round added since (here or by another program) samples from now on
        selection = pairSelectionSettings(*m_store);
        if (selection.rule == PairRule::Ensemble)
            ensembleDir = roundEnsembleDir(*m_store);
    } catch (const std::exception &error) {
        fail(errorText(error));
        return;
    }
    if (m_modelState == ModelState::NotLoaded)
        loadModel();
    if (m_modelState != ModelState::Ready)
        return; // onModelLoaded comes back here
    PairRequest request;
    int listIndex = -1;
    if (m_mode == Mode::Typed) {
        request.prompt = m_typedPrompt;
        request.source = PromptSource::Typed;
    } else {
        listIndex = m_listNext++;
        request.prompt = m_list[listIndex];
        request.source = PromptSource::List;
    }
    auto *random = QRandomGenerator::global();
    const quint32 seed = random->bounded(kSeedBound);
    request.seeds = {seed, (seed + 1 + random->bounded(kSeedBound - 1)) % kSeedBound};
    request.sampling = m_sampling;
    m_generationEpoch = m_epoch;
    const std::shared_ptr<LoadedModel> model = m_model;
    m_generationJobRunning = true;
    m_generatingListIndex = listIndex;
    m_generationWatcher.setFuture(QtConcurrent::run([model, request, listIndex, selection,
                                                     ensembleDir]() -> GenerationResult {
        try {
            const std::lock_guard lock(model->mutex);
            model->selection.ensembleDir = ensembleDir;
            if (isPlain(selection))
                return {generatePair(*model->bundle, request), listIndex, QString()};
            return {
                generateSelectedPair(*model->bundle, {request}, selection, model->selection).pair,
                listIndex, QString()};
        } catch (const std::exception &error) {
            return {
                std::nullopt, listIndex,
                tr("Generating a pair for %1: %2").arg(quoted(request.prompt), errorText(error))};
        }
    }));
}

void LabelSession::onGenerated()
{
    m_generationJobRunning = false;
    GenerationResult result = m_generationWatcher.result();
    if (m_generationEpoch != m_epoch) { // made for a source or model no longer chosen
        ensureGenerating();
        return;
    }
    if (!result.pair) {
        fail(result.error);
        return;
    }
    m_ready.emplace_back(std::move(*result.pair), result.listIndex);
    if (!m_current && !m_loadingPairId && !m_waitingForModel)
        advance();
    ensureGenerating();
}

bool LabelSession::showReady()
{
    if (m_ready.empty() || !m_model)
        return false;
    auto [pair, listIndex] = std::move(m_ready.front());
    m_ready.pop_front();
    try {
        if (m_mode == Mode::Typed && !m_typedPromptId) {
            // The same text typed in an earlier session: its row again (the store has no
            // lookup by text; this reads the prompts once per typed prompt).
            for (const PromptInfo &prompt : m_store->prompts())
                if (prompt.text == m_typedPrompt)
                    m_typedPromptId = prompt.id;
        }
        if (m_mode == Mode::Typed && m_typedPromptId)
            pair.request.promptId = m_typedPromptId;
        const StoredPair stored = storePair(*m_store, pair, m_model->identity);
        if (m_mode == Mode::Typed)
            m_typedPromptId = stored.promptId;
        Item item;
        item.pairId = stored.pairId;
        item.prompt = pair.request.prompt;
        item.leftSample = stored.leftSample;
        item.clips = pair.clips;
        item.listIndex = listIndex;
        for (int i = 0; i < 2; ++i)
            item.origins[i] = tr("model %1, seed %2, temperature %3")
                                  .arg(m_model->identity.name)
                                  .arg(qint64(pair.request.seeds[i]))
                                  .arg(pair.request.sampling.temperature);
        setCurrent(std::move(item));
    } catch (const StudyBusyError &) {
        // Nothing was stored: the pair waits at the front for the lock to go.
        m_ready.emplace_front(std::move(pair), listIndex);
        retryAfterLock(tr("to store the next pair"));
    } catch (const std::exception &error) {
        fail(errorText(error));
    }
    return true;
}

QString LabelSession::describeSample(const SampleInfo &sample) const
{
    QString model = sample.origin;
    if (m_store && sample.modelId) {
        for (const ModelInfo &info : m_store->models())
            if (info.id == *sample.modelId)
                model = info.name;
    }
    if (m_store && sample.adapterId) {
        for (const ModelInfo &info : m_store->adapters())
            if (info.id == *sample.adapterId)
                model += QStringLiteral(" + ") + info.name;
    }
    if (model.isEmpty())
        model = tr("unknown");
    return tr("model %1, seed %2, temperature %3")
        .arg(model)
        .arg(sample.seed)
        .arg(sample.temperature);
}

void LabelSession::showStoredPair(qint64 pairId)
{
    if (const auto known = m_history.find(pairId); known != m_history.end()) {
        setCurrent(known->second);
        return;
    }
    StoredRequest request;
    try {
        const PairInfo pair = m_store->pair(pairId);
        request.pairId = pairId;
        request.samples = {m_store->sample(pair.sample1Id), m_store->sample(pair.sample2Id)};
        request.item.pairId = pairId;
        request.item.prompt = pair.promptText;
        request.item.leftSample = pair.leftSample;
        for (int i = 0; i < 2; ++i)
            request.item.origins[i] = describeSample(request.samples[i]);
    } catch (const std::exception &error) {
        fail(errorText(error));
        return;
    }
    const bool needsModel =
        sampleNeedsModel(request.samples[0]) || sampleNeedsModel(request.samples[1]);
    if (needsModel && m_modelState != ModelState::Ready) {
        m_waitingForModel = std::move(request);
        setCurrent(std::nullopt, tr("Loading the model to decode pair %1...").arg(pairId));
        if (m_modelState == ModelState::Failed)
            onModelLoaded(); // reports the failure through the same path
        else
            loadModel();
        return;
    }
    runStoredRequest(std::move(request));
}

void LabelSession::runStoredRequest(StoredRequest request)
{
    setCurrent(std::nullopt, tr("Loading pair %1...").arg(request.pairId));
    m_loadingPairId = request.pairId;
    if (m_storedJobRunning) {
        m_pendingStored = std::move(request); // onStoredLoaded runs it when the worker is free
        return;
    }
    const int ticket = ++m_storedTicket;
    const std::shared_ptr<LoadedModel> model = m_model;
    m_storedJobRunning = true;
    m_storedWatcher.setFuture(QtConcurrent::run([model, request, ticket]() -> StoredResult {
        StoredResult result{request.item, QString(), ticket};
        try {
            std::unique_lock<std::mutex> lock;
            if (model)
                lock = std::unique_lock(model->mutex);
            const double fps = model ? model->bundle->config().fps : 20.0;
            for (int i = 0; i < 2; ++i)
                result.item->clips[i] =
                    sampleMotion(request.samples[i], model ? model->bundle.get() : nullptr, fps);
        } catch (const std::exception &error) {
            result.error = tr("Pair %1: %2").arg(request.pairId).arg(errorText(error));
        }
        return result;
    }));
}

void LabelSession::onStoredLoaded()
{
    m_storedJobRunning = false;
    StoredResult result = m_storedWatcher.result();
    if (m_pendingStored) {
        StoredRequest request = std::move(*m_pendingStored);
        m_pendingStored.reset();
        runStoredRequest(std::move(request));
        return;
    }
    if (result.ticket != m_storedTicket || m_current)
        return;
    m_loadingPairId = 0;
    // A pair that cannot be drawn is still shown (empty views), so it can be skipped.
    setCurrent(std::move(result.item));
    if (!result.error.isEmpty())
        emit errorOccurred(result.error);
}

QString LabelSession::revealText(const Item &item) const
{
    const int left = item.leftSample == 1 ? 0 : 1;
    return tr("Pair %1: left was sample_%2 (%3); right was sample_%4 (%5).")
        .arg(item.pairId)
        .arg(left + 1)
        .arg(item.origins[left])
        .arg(2 - left)
        .arg(item.origins[1 - left]);
}

qint64 LabelSession::labelCurrent(ShownChoice shown, std::optional<PreferenceDegree> degree,
                                  SkipReason skipReason, LabelInput *stored)
{
    if (!m_current || !m_store)
        return 0;
    const qint64 elapsedMs = m_shownAt.isValid() ? m_shownAt.elapsed() : 0;
    // As addShownLabel maps it (a read: a locked SQLite study in WAL mode still answers).
    const LabelInput input{.choice =
                               choiceFromShown(shown, m_store->pair(m_current->pairId).leftSample),
                           .degree = degree,
                           .skipReason = skipReason,
                           .timeOnTaskMs = elapsedMs,
                           .tags = std::exchange(m_nextTags, {}),
                           .watchedBoth = std::exchange(m_nextWatchedBoth, std::nullopt)};
    qint64 labelId = m_writes->submit({.kind = LabelWriteQueue::Write::Kind::Label,
                                       .pairId = m_current->pairId,
                                       .labeler = m_labeler,
                                       .input = input});
    if (labelId == 0)
        labelId = kLabelQueued;
    if (stored)
        *stored = input;
    ++m_labeledThisSession;
    m_labelMsTotal += elapsedMs;
    const Item done = std::move(*m_current);
    m_history[done.pairId] = done;
    while (m_history.size() > kHistorySize)
        m_history.erase(m_history.begin());
    emit labelStored(labelId, done.pairId, revealText(done));
    advance();
    return labelId;
}

void LabelSession::revisit(qint64 pairId)
{
    if (!m_store)
        return;
    // Whatever was on screen or on its way comes back right after this pair.
    if (m_current) {
        if (m_current->pairId == pairId)
            return;
        m_history[m_current->pairId] = *m_current;
        m_returns.push_front(m_current->pairId);
    } else if (m_loadingPairId && m_loadingPairId != pairId) {
        m_returns.push_front(m_loadingPairId);
    } else if (m_waitingForModel && m_waitingForModel->pairId != pairId) {
        m_returns.push_front(m_waitingForModel->pairId);
    }
    m_waitingForModel.reset();
    m_pendingStored.reset();
    m_loadingPairId = 0;
    ++m_storedTicket;
    m_current.reset();
    showStoredPair(pairId);
}

void LabelSession::relabeled(qint64 pairId)
{
    // A redo stored the label again: the pair on screen for it moves on.
    if (m_current && m_current->pairId == pairId)
        advance();
    emit progressChanged();
}

} // namespace mp

// The session's meta-object here, where StudyStore is complete (label_session.h only declares
// it): study_store.cpp includes its own, so the library's mocs_compilation.cpp no longer does.
#include "moc_label_session.cpp"
