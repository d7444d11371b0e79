#include "app/compare/leaderboard.h"

#include "app/compare/ab_session.h"
#include "app/study/study_io.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <map>

namespace mp {

namespace {

const QLatin1String kFormat("motionpref-leaderboard");

QString directoryName(const QString &path)
{
    const QString name = QFileInfo(QDir::cleanPath(path)).fileName();
    return name.isEmpty() ? path : name;
}

QString modelName(const QString &bundleName, const QString &adapterName)
{
    return adapterName.isEmpty() ? bundleName : bundleName + QStringLiteral(" + ") + adapterName;
}

// The default anchor: the bundle alone (no adapter) with the most comparisons, else the model
// with the most comparisons.
int defaultAnchor(const std::vector<LeaderboardModel> &models, const std::vector<int> &counts)
{
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; ++pass)
        for (int m = 0; m < int(models.size()); ++m)
            if ((pass == 1 || models[m].adapterPath.isEmpty()) && counts[m] > 0 &&
                (best < 0 || counts[m] > counts[best]))
                best = m;
    return std::max(best, 0);
}

} // namespace

QString LeaderboardData::directoryKey(const QString &path)
{
    if (path.isEmpty())
        return QString();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    if (const auto found = m_hashes.constFind(absolute); found != m_hashes.constEnd())
        return *found;
    const QString key = QFileInfo(absolute).isDir() ? StudyStore::contentHash(absolute)
                                                    : QStringLiteral("path:") + absolute;
    m_hashes.insert(absolute, key);
    return key;
}

int LeaderboardData::modelIndex(const QString &key, const QString &name, const QString &bundlePath,
                                const QString &adapterPath)
{
    for (int m = 0; m < int(m_models.size()); ++m)
        if (m_models[m].key == key)
            return m;
    // Two different models with one name (two "bundle" directories) get "name (2)", ...
    QString unique = name;
    for (int suffix = 2;; ++suffix) {
        const bool taken = std::any_of(m_models.begin(), m_models.end(),
                                       [&](const LeaderboardModel &m) { return m.name == unique; });
        if (!taken)
            break;
        unique = name + QStringLiteral(" (%1)").arg(suffix);
    }
    m_models.push_back({key, unique, bundlePath, adapterPath});
    return int(m_models.size()) - 1;
}

int LeaderboardData::addStudy(const StudyStore &store)
{
    std::map<qint64, ModelInfo> bundles;
    for (const ModelInfo &model : store.models())
        bundles.emplace(model.id, model);
    std::map<qint64, ModelInfo> adapters;
    for (const ModelInfo &adapter : store.adapters())
        adapters.emplace(adapter.id, adapter);
    const auto keyOf = [](const ModelInfo &info, const char *kind) {
        return info.contentHash.isEmpty()
                   ? QStringLiteral("study-%1:%2").arg(QLatin1String(kind)).arg(info.id)
                   : info.contentHash;
    };
    // A sample's model index, -1 when the sample records no model.
    std::map<qint64, int> sampleModel;
    const auto modelOf = [&](qint64 sampleId) {
        if (const auto found = sampleModel.find(sampleId); found != sampleModel.end())
            return found->second;
        const SampleInfo sample = store.sample(sampleId);
        int index = -1;
        if (sample.modelId && bundles.count(*sample.modelId)) {
            const ModelInfo &bundle = bundles.at(*sample.modelId);
            const ModelInfo *adapter = sample.adapterId && adapters.count(*sample.adapterId)
                                           ? &adapters.at(*sample.adapterId)
                                           : nullptr;
            const QString key = keyOf(bundle, "model") + QLatin1Char('|') +
                                (adapter ? keyOf(*adapter, "adapter") : QString());
            index = modelIndex(
                key,
                modelName(bundle.name.isEmpty() ? directoryName(bundle.path) : bundle.name,
                          adapter ? (adapter->name.isEmpty() ? directoryName(adapter->path)
                                                             : adapter->name)
                                  : QString()),
                bundle.path, adapter ? adapter->path : QString());
        }
        sampleModel.emplace(sampleId, index);
        return index;
    };

    std::map<qint64, PairInfo> pairs;
    for (PairInfo &pair : store.pairs())
        pairs.emplace(pair.id, std::move(pair));
    int added = 0;
    for (const LabelRecord &label : store.currentLabels()) {
        if (!label.choice || label.retracted || *label.choice == Choice::Skipped)
            continue;
        const auto pair = pairs.find(label.pairId);
        if (pair == pairs.end())
            continue;
        const int first = modelOf(pair->second.sample1Id);
        const int second = modelOf(pair->second.sample2Id);
        if (first < 0 || second < 0) {
            ++m_labelsWithoutModel;
            continue;
        }
        if (first == second)
            continue;
        const double score = *label.choice == Choice::Sample1   ? 1.0
                             : *label.choice == Choice::Sample2 ? 0.0
                                                                : 0.5;
        m_comparisons.push_back({first, second, score});
        ++added;
    }
    m_sources.append(QStringLiteral("study %1: %2").arg(store.location()).arg(added));
    return added;
}

int LeaderboardData::addAbSession(const AbSession &session, const QString &source)
{
    const auto indexOf = [this](const AbModelRef &ref) {
        const QString key =
            directoryKey(ref.bundleDir) + QLatin1Char('|') + directoryKey(ref.adapterDir);
        return modelIndex(
            key,
            modelName(directoryName(ref.bundleDir),
                      ref.adapterDir.isEmpty() ? QString() : directoryName(ref.adapterDir)),
            ref.bundleDir, ref.adapterDir);
    };
    const int a = indexOf(session.modelA());
    const int b = indexOf(session.modelB());
    int added = 0;
    if (a != b) {
        for (const AbTrial &trial : session.trials()) {
            const AbOutcome outcome = trial.outcome();
            if (outcome == AbOutcome::Pending)
                continue;
            m_comparisons.push_back({b, a,
                                     outcome == AbOutcome::Win   ? 1.0
                                     : outcome == AbOutcome::Tie ? 0.5
                                                                 : 0.0});
            ++added;
        }
    }
    m_sources.append(QStringLiteral("%1: %2").arg(source).arg(added));
    return added;
}

int LeaderboardData::addAbSessionFile(const QString &path)
{
    return addAbSession(AbSession::load(path), path);
}

Leaderboard computeLeaderboard(const LeaderboardData &data, const LeaderboardOptions &options)
{
    const std::vector<LeaderboardModel> &models = data.models();
    const std::vector<PairwiseOutcome> &outcomes = data.comparisons();
    if (outcomes.empty())
        throw InputError("leaderboard: no comparison between two different models (" +
                         (data.sources().isEmpty()
                              ? std::string("no study or A/B session given")
                              : data.sources().join(QStringLiteral("; ")).toStdString()) +
                         ")");
    const int n = int(models.size());
    Leaderboard board;
    board.options = options;
    board.sources = data.sources();
    board.comparisons = int(outcomes.size());
    std::vector<LeaderboardRow> rows(n);
    std::vector<int> counts(n, 0);
    for (int m = 0; m < n; ++m)
        rows[m].model = models[m];
    for (const PairwiseOutcome &o : outcomes) {
        ++counts[o.first];
        ++counts[o.second];
        if (o.score == 0.5) {
            ++rows[o.first].ties;
            ++rows[o.second].ties;
        } else {
            ++(o.score > 0.5 ? rows[o.first].wins : rows[o.first].losses);
            ++(o.score > 0.5 ? rows[o.second].losses : rows[o.second].wins);
        }
    }
    int anchor = defaultAnchor(models, counts);
    if (!options.anchor.isEmpty()) {
        anchor = -1;
        QStringList names;
        for (int m = 0; m < n; ++m) {
            names << models[m].name;
            if (models[m].name == options.anchor)
                anchor = m;
        }
        if (anchor < 0)
            throw InputError("leaderboard: no model named '" + options.anchor.toStdString() +
                             "' (models: " + names.join(QStringLiteral(", ")).toStdString() + ")");
    }
    const BradleyTerryOptions fitOptions{.ridge = options.ridge};
    const BradleyTerryFit fit = fitBradleyTerry(n, outcomes, fitOptions);
    if (!fit.converged)
        throw InputError("leaderboard: the Bradley-Terry fit did not converge (a model that "
                         "never lost or never won needs a ridge > 0)");
    const BradleyTerryIntervals intervals = bootstrapBradleyTerry(n, outcomes, fitOptions,
                                                                  {.replicates = options.replicates,
                                                                   .seed = options.seed,
                                                                   .level = options.level,
                                                                   .anchor = anchor});
    board.notConverged = intervals.notConverged;
    for (int m = 0; m < n; ++m) {
        rows[m].rating = fit.theta[m] - fit.theta[anchor];
        rows[m].lower = intervals.lower[m];
        rows[m].upper = intervals.upper[m];
    }
    board.anchor = models[anchor].name;
    std::stable_sort(
        rows.begin(), rows.end(),
        [](const LeaderboardRow &a, const LeaderboardRow &b) { return a.rating > b.rating; });
    board.rows = std::move(rows);
    return board;
}

QJsonObject leaderboardToJson(const Leaderboard &board)
{
    QJsonArray models;
    for (const LeaderboardRow &row : board.rows)
        models.append(
            QJsonObject{{QStringLiteral("name"), row.model.name},
                        {QStringLiteral("bundle"), row.model.bundlePath},
                        {QStringLiteral("adapter"), row.model.adapterPath.isEmpty()
                                                        ? QJsonValue(QJsonValue::Null)
                                                        : QJsonValue(row.model.adapterPath)},
                        {QStringLiteral("rating"), row.rating},
                        {QStringLiteral("lower"), row.lower},
                        {QStringLiteral("upper"), row.upper},
                        {QStringLiteral("elo"), row.elo()},
                        {QStringLiteral("wins"), row.wins},
                        {QStringLiteral("ties"), row.ties},
                        {QStringLiteral("losses"), row.losses},
                        {QStringLiteral("n"), row.count()}});
    return {{QStringLiteral("format"), kFormat},
            {QStringLiteral("method"),
             QStringLiteral("Bradley-Terry by Newton's method, ties as half a win each, ridge "
                            "prior; percentile bootstrap over comparisons")},
            {QStringLiteral("scale"),
             QStringLiteral("log-odds from the anchor; elo = 1000 + 400/ln(10) * rating")},
            {QStringLiteral("anchor"), board.anchor},
            {QStringLiteral("ridge"), board.options.ridge},
            {QStringLiteral("replicates"), board.options.replicates},
            {QStringLiteral("seed"), static_cast<qint64>(board.options.seed)},
            {QStringLiteral("level"), board.options.level},
            {QStringLiteral("comparisons"), board.comparisons},
            {QStringLiteral("bootstrap_not_converged"), board.notConverged},
            {QStringLiteral("sources"), QJsonArray::fromStringList(board.sources)},
            {QStringLiteral("models"), models}};
}

QString leaderboardToCsv(const Leaderboard &board)
{
    QString out =
        QStringLiteral("model,bundle,adapter,rating,lower,upper,elo,wins,ties,losses,n\n");
    for (const LeaderboardRow &row : board.rows)
        out += QStringList{csvCell(row.model.name, true),
                           csvCell(row.model.bundlePath, true),
                           csvCell(row.model.adapterPath, true),
                           QString::number(row.rating, 'g', 10),
                           QString::number(row.lower, 'g', 10),
                           QString::number(row.upper, 'g', 10),
                           QString::number(row.elo(), 'f', 1),
                           QString::number(row.wins),
                           QString::number(row.ties),
                           QString::number(row.losses),
                           QString::number(row.count())}
                   .join(QLatin1Char(',')) +
               QLatin1Char('\n');
    return out;
}

QString leaderboardToText(const Leaderboard &board)
{
    int width = 5;
    for (const LeaderboardRow &row : board.rows)
        width = std::max(width, int(row.model.name.size()));
    const int percent = int(std::lround(board.options.level * 100));
    QString out = QStringLiteral("%1  %2  %3  %4  %5  %6  %7  %8\n")
                      .arg(QStringLiteral("model"), -width)
                      .arg(QStringLiteral("rating"), 7)
                      .arg(QStringLiteral("%1% interval").arg(percent), 17)
                      .arg(QStringLiteral("Elo"), 6)
                      .arg(QStringLiteral("wins"), 5)
                      .arg(QStringLiteral("ties"), 5)
                      .arg(QStringLiteral("losses"), 6)
                      .arg(QStringLiteral("n"), 5);
    for (const LeaderboardRow &row : board.rows)
        out +=
            QStringLiteral("%1  %2  %3  %4  %5  %6  %7  %8\n")
                .arg(row.model.name, -width)
                .arg(row.rating, 7, 'f', 3)
                .arg(QStringLiteral("[%1, %2]").arg(row.lower, 0, 'f', 3).arg(row.upper, 0, 'f', 3),
                     17)
                .arg(row.elo(), 6, 'f', 0)
                .arg(row.wins, 5)
                .arg(row.ties, 5)
                .arg(row.losses, 6)
                .arg(row.count(), 5);
    out += QStringLiteral("anchor %1 (rating 0); %2 comparisons; Bradley-Terry (Newton, ties = "
                          "half a win, ridge %3); %4 bootstrap replicates, seed %5\n")
               .arg(board.anchor)
               .arg(board.comparisons)
               .arg(board.options.ridge)
               .arg(board.options.replicates)
               .arg(board.options.seed);
    return out;
}

} // namespace mp
