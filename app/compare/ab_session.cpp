#include "app/compare/ab_session.h"

#include "app/core/json_file.h"
#include "ml/core/error.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTextStream>

#include <cmath>
#include <random>

namespace mp {

namespace {
// The JSON's "format" value, so a wrong file is recognised at once.
const QLatin1String kFormat("motionpref-ab-session");
constexpr int kVersion = 1;
// Trial seeds stay below 2^31: exact in JSON doubles and in every language's int.
constexpr std::uint64_t kSeedRange = 1ull << 31;

[[noreturn]] void fail(const QString &source, const QString &problem)
{
    throw InputError((source + QStringLiteral(": ") + problem).toStdString());
}

// Uniform in [0, n) from the 64-bit engine; the bias of the modulo is below 2^-40 for the
// session sizes here, and unlike std::uniform_int_distribution it is the same on every library.
std::uint64_t drawBelow(std::mt19937_64 &rng, std::uint64_t n)
{
    return rng() % n;
}

template <typename T> void shuffleInPlace(QList<T> &items, std::mt19937_64 &rng)
{
    for (qsizetype i = items.size() - 1; i > 0; --i)
        items.swapItemsAt(
            i, static_cast<qsizetype>(drawBelow(rng, static_cast<std::uint64_t>(i) + 1)));
}

AbAnswer answerFromName(const QString &name, const QString &source)
{
    if (name == QLatin1String("left"))
        return AbAnswer::Left;
    if (name == QLatin1String("right"))
        return AbAnswer::Right;
    if (name == QLatin1String("tie"))
        return AbAnswer::Tie;
    if (name.isEmpty())
        return AbAnswer::None;
    fail(source, QStringLiteral("answer must be left, right, tie or null, got '%1'").arg(name));
}

QJsonObject modelToJson(const AbModelRef &model)
{
    return {{QStringLiteral("bundle"), model.bundleDir},
            {QStringLiteral("adapter"), model.adapterDir.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                   : QJsonValue(model.adapterDir)}};
}

AbModelRef modelFromJson(const QJsonValue &value, const QString &source)
{
    if (!value.isObject() || !value.toObject().value(QStringLiteral("bundle")).isString())
        fail(source, QStringLiteral("expected an object with a \"bundle\" path"));
    const QJsonObject object = value.toObject();
    return {object.value(QStringLiteral("bundle")).toString(),
            object.value(QStringLiteral("adapter")).toString()};
}

QJsonObject tallyToJson(const AbTally &tally)
{
    return {{QStringLiteral("win"), tally.wins},
            {QStringLiteral("tie"), tally.ties},
            {QStringLiteral("loss"), tally.losses},
            {QStringLiteral("pending"), tally.pending},
            {QStringLiteral("win_rate"), tally.winRate()},
            {QStringLiteral("tie_rate"), tally.tieRate()},
            {QStringLiteral("loss_rate"), tally.lossRate()}};
}
} // namespace

AbOutcome AbTrial::outcome() const
{
    switch (answer) {
    case AbAnswer::None:
        return AbOutcome::Pending;
    case AbAnswer::Tie:
        return AbOutcome::Tie;
    case AbAnswer::Left:
        return aOnLeft ? AbOutcome::Loss : AbOutcome::Win;
    case AbAnswer::Right:
        return aOnLeft ? AbOutcome::Win : AbOutcome::Loss;
    }
    return AbOutcome::Pending;
}

double AbTally::winRate() const
{
    return answered() > 0 ? static_cast<double>(wins) / answered() : 0.0;
}

double AbTally::tieRate() const
{
    return answered() > 0 ? static_cast<double>(ties) / answered() : 0.0;
}

double AbTally::lossRate() const
{
    return answered() > 0 ? static_cast<double>(losses) / answered() : 0.0;
}

bool sameTemperature(double a, double b)
{
    return std::abs(a - b) < 1e-9;
}

QString answerName(AbAnswer answer)
{
    switch (answer) {
    case AbAnswer::Left:
        return QStringLiteral("left");
    case AbAnswer::Right:
        return QStringLiteral("right");
    case AbAnswer::Tie:
        return QStringLiteral("tie");
    case AbAnswer::None:
        break;
    }
    return QString();
}

AbSession AbSession::create(const AbModelRef &modelA, const AbModelRef &modelB,
                            const AbSessionOptions &options)
{
    if (options.prompts.isEmpty())
        throw InputError("blind A/B session: no prompts");
    if (options.temperatures.isEmpty())
        throw InputError("blind A/B session: no temperatures");
    for (qsizetype i = 0; i < options.temperatures.size(); ++i)
        for (qsizetype j = 0; j < i; ++j)
            if (sameTemperature(options.temperatures[i], options.temperatures[j]))
                throw InputError("blind A/B session: temperature " +
                                 std::to_string(options.temperatures[i]) + " is given twice");

    AbSession session;
    session.m_modelA = modelA;
    session.m_modelB = modelB;
    session.m_temperatures = options.temperatures;
    session.m_seed = options.seed;
    session.m_created = QDateTime::currentDateTimeUtc();
    std::mt19937_64 rng(options.seed);
    for (const QString &prompt : options.prompts)
        for (double temperature : options.temperatures) {
            AbTrial trial;
            trial.prompt = prompt;
            trial.temperature = temperature;
            trial.seed = drawBelow(rng, kSeedRange);
            session.m_trials.append(trial);
        }
    // Balanced sides: half the trials put A on the left, in a random arrangement.
    QList<bool> sides;
    for (qsizetype i = 0; i < session.m_trials.size(); ++i)
        sides.append(i % 2 == 0);
    shuffleInPlace(sides, rng);
    for (qsizetype i = 0; i < session.m_trials.size(); ++i)
        session.m_trials[i].aOnLeft = sides[i];
    if (options.shuffleOrder)
        shuffleInPlace(session.m_trials, rng);
    return session;
}

void AbSession::answer(int index, AbAnswer answer, const QDateTime &at)
{
    AbTrial &trial = m_trials[index];
    trial.answer = answer;
    trial.answeredAt = answer == AbAnswer::None ? QDateTime() : at;
}

int AbSession::answeredCount() const
{
    int count = 0;
    for (const AbTrial &trial : m_trials)
        count += trial.answered() ? 1 : 0;
    return count;
}

int AbSession::nextUnanswered(int from) const
{
    const int n = size();
    for (int step = 0; step < n; ++step) {
        const int index = ((from % n) + n + step) % n;
        if (!m_trials[index].answered())
            return index;
    }
    return -1;
}

int AbSession::lastAnswered() const
{
    int latest = -1;
    for (int i = 0; i < size(); ++i)
        if (m_trials[i].answered() &&
            (latest < 0 || m_trials[i].answeredAt >= m_trials[latest].answeredAt))
            latest = i;
    return latest;
}

AbTally AbSession::tally(double temperature) const
{
    AbTally tally;
    for (const AbTrial &trial : m_trials) {
        if (!sameTemperature(trial.temperature, temperature))
            continue;
        switch (trial.outcome()) {
        case AbOutcome::Pending:
            ++tally.pending;
            break;
        case AbOutcome::Win:
            ++tally.wins;
            break;
        case AbOutcome::Tie:
            ++tally.ties;
            break;
        case AbOutcome::Loss:
            ++tally.losses;
            break;
        }
    }
    return tally;
}

AbTally AbSession::total() const
{
    AbTally sum;
    for (double temperature : m_temperatures) {
        const AbTally t = tally(temperature);
        sum.wins += t.wins;
        sum.ties += t.ties;
        sum.losses += t.losses;
        sum.pending += t.pending;
    }
    return sum;
}

QJsonObject AbSession::toJson() const
{
    QJsonArray temperatures;
    for (double t : m_temperatures)
        temperatures.append(t);
    QJsonArray trials;
    for (const AbTrial &trial : m_trials) {
        const AbOutcome outcome = trial.outcome();
        QJsonObject object{
            {QStringLiteral("prompt"), trial.prompt},
            {QStringLiteral("seed"), static_cast<qint64>(trial.seed)},
            {QStringLiteral("temperature"), trial.temperature},
            {QStringLiteral("left"), trial.aOnLeft ? QStringLiteral("A") : QStringLiteral("B")},
            {QStringLiteral("right"), trial.aOnLeft ? QStringLiteral("B") : QStringLiteral("A")},
            {QStringLiteral("answer"), trial.answered() ? QJsonValue(answerName(trial.answer))
                                                        : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("preferred"),
             outcome == AbOutcome::Pending ? QJsonValue(QJsonValue::Null)
             : outcome == AbOutcome::Tie   ? QJsonValue(QStringLiteral("tie"))
             : outcome == AbOutcome::Win   ? QJsonValue(QStringLiteral("B"))
                                           : QJsonValue(QStringLiteral("A"))},
            {QStringLiteral("answered_at"),
             trial.answered() ? QJsonValue(trial.answeredAt.toString(Qt::ISODateWithMs))
                              : QJsonValue(QJsonValue::Null)}};
        trials.append(object);
    }
    // Derived, for readers of the file; fromJson recomputes them from the trials.
    QJsonObject tallies;
    for (double t : m_temperatures)
        tallies.insert(QString::number(t), tallyToJson(tally(t)));
    return {{QStringLiteral("format"), kFormat},
            {QStringLiteral("version"), kVersion},
            {QStringLiteral("created"), m_created.toString(Qt::ISODateWithMs)},
            {QStringLiteral("seed"), static_cast<qint64>(m_seed)},
            {QStringLiteral("prompt_source"), m_promptSource},
            {QStringLiteral("rater"),
             m_rater.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(m_rater)},
            {QStringLiteral("model_a"), modelToJson(m_modelA)},
            {QStringLiteral("model_b"), modelToJson(m_modelB)},
            {QStringLiteral("temperatures"), temperatures},
            {QStringLiteral("trials"), trials},
            {QStringLiteral("tallies_b_vs_a"), tallies},
            {QStringLiteral("total_b_vs_a"), tallyToJson(total())}};
}

AbSession AbSession::fromJson(const QJsonObject &json, const QString &source)
{
    if (json.value(QStringLiteral("format")).toString() != kFormat)
        fail(source,
             QStringLiteral("not a blind A/B session (\"format\" is not \"%1\")").arg(kFormat));
    if (json.value(QStringLiteral("version")).toInt() > kVersion)
        fail(source, QStringLiteral("version %1 is newer than this program reads (%2)")
                         .arg(json.value(QStringLiteral("version")).toInt())
                         .arg(kVersion));
    AbSession session;
    session.m_modelA = modelFromJson(json.value(QStringLiteral("model_a")), source + ": model_a");
    session.m_modelB = modelFromJson(json.value(QStringLiteral("model_b")), source + ": model_b");
    session.m_seed = static_cast<std::uint64_t>(json.value(QStringLiteral("seed")).toInteger());
    session.m_created =
        QDateTime::fromString(json.value(QStringLiteral("created")).toString(), Qt::ISODateWithMs);
    session.m_promptSource = json.value(QStringLiteral("prompt_source")).toString();
    session.m_rater = json.value(QStringLiteral("rater")).toString();

    const QJsonValue temperatures = json.value(QStringLiteral("temperatures"));
    if (!temperatures.isArray() || temperatures.toArray().isEmpty())
        fail(source, QStringLiteral("\"temperatures\" must be a non-empty array"));
    for (const QJsonValue &value : temperatures.toArray()) {
        if (!value.isDouble())
            fail(source, QStringLiteral("\"temperatures\" holds a non-number"));
        session.m_temperatures.append(value.toDouble());
    }

    const QJsonValue trials = json.value(QStringLiteral("trials"));
    if (!trials.isArray())
        fail(source, QStringLiteral("\"trials\" must be an array"));
    int index = 0;
    for (const QJsonValue &value : trials.toArray()) {
        const QString where = source + QStringLiteral(": trial %1").arg(index++);
        const QJsonObject object = value.toObject();
        AbTrial trial;
        trial.prompt = object.value(QStringLiteral("prompt")).toString();
        if (trial.prompt.trimmed().isEmpty())
            fail(where, QStringLiteral("no prompt"));
        const QJsonValue seed = object.value(QStringLiteral("seed"));
        if (!seed.isDouble() || seed.toDouble() < 0)
            fail(where, QStringLiteral("\"seed\" must be a non-negative integer"));
        trial.seed = static_cast<std::uint64_t>(seed.toInteger());
        const QJsonValue temperature = object.value(QStringLiteral("temperature"));
        if (!temperature.isDouble())
            fail(where, QStringLiteral("\"temperature\" must be a number"));
        trial.temperature = temperature.toDouble();
        bool listed = false;
        for (double t : session.m_temperatures)
            listed = listed || sameTemperature(t, trial.temperature);
        if (!listed)
            fail(where, QStringLiteral("temperature %1 is not among \"temperatures\"")
                            .arg(trial.temperature));
        const QString left = object.value(QStringLiteral("left")).toString();
        if (left != QLatin1String("A") && left != QLatin1String("B"))
            fail(where, QStringLiteral("\"left\" must be \"A\" or \"B\""));
        trial.aOnLeft = left == QLatin1String("A");
        trial.answer = answerFromName(object.value(QStringLiteral("answer")).toString(), where);
        if (trial.answered())
            trial.answeredAt = QDateTime::fromString(
                object.value(QStringLiteral("answered_at")).toString(), Qt::ISODateWithMs);
        session.m_trials.append(trial);
    }
    if (session.m_trials.isEmpty())
        fail(source, QStringLiteral("no trials"));
    return session;
}

void AbSession::save(const QString &path) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        fail(path, file.errorString());
    file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit())
        fail(path, file.errorString());
}

AbSession AbSession::load(const QString &path)
{
    return fromJson(readJsonObjectFile(path), path);
}

QStringList readPromptFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        fail(path, file.errorString());
    // "000123#a person walks": the id prefix of the paper's prompt lists.
    static const QRegularExpression idPrefix(QStringLiteral("^[A-Za-z0-9_.-]+#"));
    QStringList prompts;
    QTextStream in(&file);
    while (!in.atEnd()) {
        QString line = in.readLine().trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        line.remove(idPrefix);
        line = line.trimmed();
        if (!line.isEmpty())
            prompts.append(line);
    }
    if (prompts.isEmpty())
        fail(path, QStringLiteral("no prompts (one per line expected)"));
    return prompts;
}

QList<double> parseTemperatures(const QString &text)
{
    static const QRegularExpression separators(QStringLiteral("[,;\\s]+"));
    QList<double> temperatures;
    for (const QString &part : text.split(separators, Qt::SkipEmptyParts)) {
        bool ok = false;
        const double value = part.toDouble(&ok);
        if (!ok || !std::isfinite(value))
            throw InputError("temperatures: '" + part.toStdString() + "' is not a number");
        if (value < 0 || value > 5)
            throw InputError("temperatures: " + part.toStdString() +
                             " is outside [0, 5] (0 means greedy)");
        for (double existing : temperatures)
            if (sameTemperature(existing, value))
                throw InputError("temperatures: " + part.toStdString() + " is given twice");
        temperatures.append(value);
    }
    if (temperatures.isEmpty())
        throw InputError("temperatures: none given (e.g. 0.8, 1.0, 1.2)");
    return temperatures;
}

} // namespace mp
