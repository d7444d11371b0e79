#pragma once
// A labeling session: where the pairs come from (a typed prompt, a prompt list, or the study's
// unlabeled pairs), the model that generates them, and the pair on screen. The Label panel is a
// view of this; it holds no widgets, so it is tested headless too.
//
// - The model bundle loads on a worker thread; generation and the decoding of stored pairs run
//   there too (one job at a time per model), so the GUI thread never waits for torch.
// - Generated pairs are prefetched: while one pair is being labeled the next one is generated,
//   and it is stored in the study (prompt, samples, pair with a random left side) only when it
//   is shown.
// - In a study session, gold and repeated pairs are mixed in at the study's rates
//   (check_pairs.h: assignNextWithChecks), shown like any other pair.
// - A pair of the study (imported, simulated, generated earlier) is shown from its stored
//   features, or from its codes decoded by the model.
// - Generated pairs follow the study's pair selection (active_pairs.h: K candidates, random or
//   smallest-margin pick, recorded with the pair) and its online round (study_rounds.h): the
//   sampler is the base model plus the latest round's adapter, switched when a round is added
//   (checked before each generation), so a round finished by a background job or by another
//   program takes over from the next pair on. Which model made a pair stays hidden until the
//   vote, as below.
// - Labels go to the store (left/right mapped by the pair's leftSample) with the time spent on
//   the pair, through a LabelWriteQueue: a study locked by another program never blocks the
//   GUI thread longer than kBusyTimeoutMs; the label waits in the queue, in order, and the next
//   pair is shown. setStore() gives the store that short busy timeout. Which model and seed made
//   which side is told only after the label is stored (labelStored's reveal text).

#include "app/study/pair_generation.h"
#include "app/study/study_types.h"
#include "ml/motion/motion_clip.h"

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>

namespace mp {

class LabelWriteQueue;
class StudyStore;

class LabelSession : public QObject {
    Q_OBJECT
public:
    enum class Mode { Idle, Typed, List, Study };
    enum class ModelState { NotLoaded, Loading, Ready, Failed };

    // A pair on screen. clips and origins are in the pair's own order (sample_1, sample_2).
    struct Item {
        qint64 pairId = 0;
        QString prompt;
        int leftSample = 1;
        std::array<MotionClip, 2> clips;
        std::array<QString, 2> origins; // "model default, seed 12, temperature 1": after the vote
        int listIndex = -1;             // the prompt's line in the list, -1 otherwise

        const MotionClip &leftClip() const { return clips[leftSample == 1 ? 0 : 1]; }
        const MotionClip &rightClip() const { return clips[leftSample == 1 ? 1 : 0]; }
    };

    struct Progress {
        int position = 0; // list: the current prompt (from 1); study: pairs labeled
        int total = 0;    // list: prompts; study: pairs; 0 when open-ended (typed prompt)
        int labeledThisSession = 0;
        double meanMsPerLabel = 0.0; // over this session's labels
        int round = 0;               // the study's online round (study_rounds.h)
        int labelsThisRound = 0;     // the study's labels since the round began
    };

    // How many generated pairs wait ready behind the one on screen.
    static constexpr int kPrefetchDepth = 1;
    // How long a write of the GUI thread waits for another program's lock before it is queued.
    static constexpr int kBusyTimeoutMs = 50;
    // labelCurrent's result for a label queued behind a lock (stored later, in order).
    static constexpr qint64 kLabelQueued = -1;

    explicit LabelSession(QObject *parent = nullptr);
    ~LabelSession() override; // waits for the worker thread

    // nullptr: no study; the queue stops.
    void setStore(StudyStore *store);
    StudyStore *store() const { return m_store; }
    void setLabeler(const QString &labeler);
    QString labeler() const { return m_labeler; }

    // Loads the bundle in the background when first needed (or now with loadNow).
    void setModelDir(const QString &dir, const QString &device = QStringLiteral("auto"),
                     bool loadNow = false);
    QString modelDir() const { return m_modelDir; }
    ModelState modelState() const { return m_modelState; }
    QString modelMessage() const { return m_modelMessage; } // the error, naming the directory
    QString modelName() const;

    // The adapter on top of the model (an online round's; empty: the base model). syncRound()
    // sets it from the study; a pair generated ahead by the previous sampler is dropped.
    void setAdapterDir(const QString &dir);
    QString adapterDir() const { return m_adapterDir; }
    // Makes the sampler the study's current round's (study_rounds.h); returns whether it changed.
    bool syncRound();

    // For the next pairs: a pair generated ahead with the old values is made again.
    void setSampling(const PairSampling &sampling);
    const PairSampling &sampling() const { return m_sampling; }

    // Pairs of this prompt (new seeds each time) until another source is chosen.
    void startTyped(const QString &prompt);
    // One pair per prompt, in order.
    void startList(const QStringList &prompts, const QString &name);
    // One prompt per line; blank lines and lines starting with '#' are skipped. InputError
    // naming the file when it cannot be read or holds no prompt.
    static QStringList readPromptList(const QString &path);
    // The study's pairs nobody labeled yet, one at a time (StudyStore::assignNextPair).
    void startStudy();
    void stop();

    Mode mode() const { return m_mode; }
    QString sourceName() const { return m_sourceName; }
    const Item *current() const { return m_current ? &*m_current : nullptr; }
    QString waitingMessage() const { return m_waiting; } // why nothing is on screen
    bool isBusy() const;                                 // a worker job is running
    Progress progress() const;

    // Stores the label of the pair on screen and shows the next one; returns the label id,
    // kLabelQueued when the study is locked (the label waits in writeQueue()), or 0 when no pair
    // is on screen. Other store errors are thrown (nothing is stored then). `stored` receives
    // the label in the pair's own terms (StudyStore::addShownLabel).
    qint64 labelCurrent(ShownChoice shown, std::optional<PreferenceDegree> degree,
                        SkipReason skipReason = SkipReason::None, LabelInput *stored = nullptr);

    // Reason tags of the next label (a skip) and whether both motions were played to the end
    // before it (the Label panel knows the playback); labelCurrent takes and clears them.
    void setLabelDetails(std::vector<ReasonTag> tags, std::optional<bool> watchedBoth);
    // Seeds the draw of gold and repeated pairs (check_pairs.h) in a study session; random
    // otherwise. For tests.
    void setCheckSeed(quint64 seed) { m_checkRng.seed(seed); }

    // Undo support: after a retraction, show that pair again (the pair on screen waits and
    // comes next); after a redo, leave it if it is on screen.
    void revisit(qint64 pairId);
    void relabeled(qint64 pairId);
    // Labels, undo retractions and redos, in order (see LabelWriteQueue).
    LabelWriteQueue *writeQueue() const { return m_writes; }

signals:
    void modelStateChanged();
    void currentChanged(); // a new pair on screen, or none (see waitingMessage)
    void progressChanged();
    void labelStored(qint64 labelId, qint64 pairId, const QString &reveal);
    void errorOccurred(const QString &message);

private:
    struct LoadedModel;
    struct StoredRequest {
        qint64 pairId = 0;
        std::array<SampleInfo, 2> samples;
        Item item; // everything but the clips
    };
    struct GenerationResult {
        std::optional<GeneratedPair> pair;
        int listIndex = -1;
        QString error;
    };
    struct StoredResult {
        std::optional<Item> item;
        QString error;
        int ticket = 0;
    };
    struct ModelResult {
        std::shared_ptr<LoadedModel> model;
        QString dir;
        QString adapterDir;
        QString error;
    };

    void loadModel();
    void onModelLoaded();
    void advance();
    void ensureGenerating();
    void dropPrefetched();
    QString waitingForGeneration() const;
    void onGenerated();
    bool showReady();
    void showStoredPair(qint64 pairId);
    void runStoredRequest(StoredRequest request);
    void onStoredLoaded();
    void setCurrent(std::optional<Item> item, const QString &waiting = {});
    void fail(const QString &message);
    void resetQueue(Mode mode, const QString &sourceName);
    QString describeSample(const SampleInfo &sample) const;
    QString revealText(const Item &item) const;

    QPointer<StudyStore> m_store;
    QString m_labeler;
    QString m_modelDir;
    QString m_device = QStringLiteral("auto");
    QString m_adapterDir;
    ModelState m_modelState = ModelState::NotLoaded;
    QString m_modelMessage;
    std::shared_ptr<LoadedModel> m_model;
    PairSampling m_sampling;

    Mode m_mode = Mode::Idle;
    QString m_sourceName;
    QString m_typedPrompt;
    qint64 m_typedPromptId = 0; // its row in the study, once known: pairs of it share one row
    QStringList m_list;
    int m_listNext = 0;             // next prompt of the list to generate
    int m_generatingListIndex = -1; // the prompt being generated
    int m_epoch = 0; // bumped when the source changes: late results of the old one are dropped

    std::optional<Item> m_current;
    QString m_waiting;
    QElapsedTimer m_shownAt;
    std::deque<std::pair<GeneratedPair, int>> m_ready; // generated, not stored, with listIndex
    std::deque<qint64> m_returns;                      // pairs to show again (undo), first first
    std::map<qint64, Item> m_history;                  // recently labeled pairs, for undo
    std::optional<StoredRequest> m_waitingForModel;    // a stored pair that needs the model
    std::optional<StoredRequest> m_pendingStored;      // waits for the worker to be free
    qint64 m_loadingPairId = 0;                        // the stored pair being decoded

    std::vector<ReasonTag> m_nextTags;
    std::optional<bool> m_nextWatchedBoth;
    std::mt19937_64 m_checkRng{std::random_device{}()};

    int m_labeledThisSession = 0;
    qint64 m_labelMsTotal = 0;

    // A watcher's isRunning() turns false before its finished() arrives, and setFuture() then
    // drops that finished(): these flags say "finished() still to come" instead.
    bool m_modelJobRunning = false;
    bool m_generationJobRunning = false;
    bool m_storedJobRunning = false;
    QFutureWatcher<ModelResult> m_modelWatcher;
    QFutureWatcher<GenerationResult> m_generationWatcher;
    QFutureWatcher<StoredResult> m_storedWatcher;
    int m_generationEpoch = 0;
    int m_storedTicket = 0; // only the latest stored-pair load is shown
    LabelWriteQueue *m_writes = nullptr;
    bool m_lockRetryPending = false; // advance() again once the study's lock may be gone
    void retryAfterLock(const QString &what);
};

} // namespace mp
