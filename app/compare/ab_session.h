#pragma once
// A blind A/B evaluation of two models, as the paper's Figure 3: every prompt of a set at several
// temperatures, A's and B's motion for the same prompt and seed shown in random left/right order
// with the models hidden; the rater answers left, right or tie. Tallies are B's wins, ties and
// losses against A per temperature. The session (models, trials, answers) is saved as JSON and
// reloads to resume or to look at the results. No widgets: the Compare panel drives it.

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <cstdint>

namespace mp {

enum class AbAnswer { None, Left, Right, Tie };
// Model B's result against model A in one trial.
enum class AbOutcome { Pending, Win, Tie, Loss };

// A model as the user picked it: a bundle directory and an optional LoRA adapter directory.
struct AbModelRef {
    QString bundleDir;
    QString adapterDir; // empty: the bundle alone

    bool operator==(const AbModelRef &other) const = default;
};

struct AbTrial {
    QString prompt;
    std::uint64_t seed = 0; // the same for A and B
    double temperature = 1.0;
    bool aOnLeft = true;
    AbAnswer answer = AbAnswer::None;
    QDateTime answeredAt;

    bool answered() const { return answer != AbAnswer::None; }
    AbOutcome outcome() const;
};

struct AbTally {
    int wins = 0; // B preferred
    int ties = 0;
    int losses = 0; // A preferred
    int pending = 0;

    int answered() const { return wins + ties + losses; }
    int total() const { return answered() + pending; }
    // Fractions of the answered trials (0 when none is answered).
    double winRate() const;
    double tieRate() const;
    double lossRate() const;
};

struct AbSessionOptions {
    QStringList prompts;
    QList<double> temperatures = {0.8, 1.0, 1.2};
    std::uint64_t seed = 1;   // draws the trial seeds, the sides and the order
    bool shuffleOrder = true; // interleave prompts and temperatures (no order effects)
};

class AbSession {
public:
    AbSession() = default;
    // Every prompt at every temperature. Sides are balanced (as many A-left as B-left, up to
    // one) and then shuffled. InputError when there is no prompt or no temperature, or a
    // temperature repeats.
    static AbSession create(const AbModelRef &modelA, const AbModelRef &modelB,
                            const AbSessionOptions &options);

    bool isEmpty() const { return m_trials.isEmpty(); }
    int size() const { return static_cast<int>(m_trials.size()); }
    const AbTrial &trial(int index) const { return m_trials.at(index); }
    const QList<AbTrial> &trials() const { return m_trials; }
    const AbModelRef &modelA() const { return m_modelA; }
    const AbModelRef &modelB() const { return m_modelB; }
    // In the order given at creation.
    const QList<double> &temperatures() const { return m_temperatures; }
    std::uint64_t seed() const { return m_seed; }
    QDateTime created() const { return m_created; }
    QString promptSource() const { return m_promptSource; }
    void setPromptSource(const QString &source) { m_promptSource = source; }
    // Who answered: empty for a person (the Blind A/B tab), else a program's description
    // ("the simulated labeler (...)", app/compare/simulated_ab.h). Saved as "rater" (null for a
    // person; files without the key are a person's).
    QString rater() const { return m_rater; }
    void setRater(const QString &rater) { m_rater = rater; }

    // Stores (or replaces) the answer of a trial; AbAnswer::None clears it.
    void answer(int index, AbAnswer answer, const QDateTime &at = QDateTime::currentDateTimeUtc());
    int answeredCount() const;
    bool isComplete() const { return !isEmpty() && answeredCount() == size(); }
    // The first unanswered trial at or after `from`, wrapping around; -1 when all are answered.
    int nextUnanswered(int from = 0) const;
    // The most recently answered trial, -1 when none.
    int lastAnswered() const;

    AbTally tally(double temperature) const;
    AbTally total() const;

    QJsonObject toJson() const;
    // InputError naming `source` and the problem for a missing key or a bad value.
    static AbSession fromJson(const QJsonObject &json, const QString &source);
    // Atomic (QSaveFile); InputError naming the file when it cannot be written.
    void save(const QString &path) const;
    static AbSession load(const QString &path);

private:
    AbModelRef m_modelA;
    AbModelRef m_modelB;
    QList<double> m_temperatures;
    QList<AbTrial> m_trials;
    std::uint64_t m_seed = 0;
    QDateTime m_created;
    QString m_promptSource;
    QString m_rater;
};

// One prompt per line; blank lines and lines starting with '#' are skipped, and an "id#"
// prefix (the paper's selected_prompts_test.txt form) is dropped. InputError naming the file
// when it cannot be read or holds no prompt.
QStringList readPromptFile(const QString &path);
// "0.8, 1.0 1.2" -> {0.8, 1.0, 1.2}; InputError for a bad number, a value outside [0, 5] or a
// repeat. 0 means greedy decoding.
QList<double> parseTemperatures(const QString &text);
// The same temperature (as typed and as read back from JSON).
bool sameTemperature(double a, double b);

QString answerName(AbAnswer answer); // "left", "right", "tie", "" for None

} // namespace mp
