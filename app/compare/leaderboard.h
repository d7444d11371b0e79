#pragma once
// A leaderboard of models: every blind A/B trial (AbSession files) and every label between two
// samples of different models in a study, fitted with Bradley-Terry (ml/eval/bradley_terry.h:
// Newton's method, ties as half a win each, a ridge prior) with percentile-bootstrap intervals.
//
// A model is a bundle plus an optional LoRA adapter. In a study it is a sample's (model_id,
// adapter_id); in an A/B session a bundle and adapter directory. Both are matched by content
// hash (StudyStore::contentHash), so the same bundle under two paths is one model; an A/B
// directory that no longer exists is known by its absolute path.
// What counts as one comparison: an answered A/B trial (left/right/tie), and each labeler's
// current label on a pair whose samples come from different models (sample_1/sample_2 a win
// whatever the degree, unsure a tie; skips and pairs within one model are left out).
// Ratings are log-odds differences from an anchor model (default: the bundle without adapter
// that has the most comparisons): P(a beats b) = sigmoid(rating_a - rating_b). Elo = 1000 +
// 400 / ln 10 * rating. No widgets: the Compare panel and `motionpref-cli study leaderboard`.

#include "ml/eval/bradley_terry.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace mp {

class AbSession;
class StudyStore;

struct LeaderboardModel {
    QString key;  // content hashes (or paths) of bundle and adapter
    QString name; // "bundle" or "bundle + adapter", unique within the leaderboard
    QString bundlePath;
    QString adapterPath; // empty: the bundle alone
};

// The comparisons, gathered from studies and A/B sessions.
class LeaderboardData {
public:
    // Labels between samples of different models. Reads through the store's public API; call it
    // on the store's thread. Returns the number of comparisons added.
    int addStudy(const StudyStore &store);
    // Answered trials, B against A. Hashes the model directories (reads their files).
    int addAbSession(const AbSession &session, const QString &source);
    // AbSession::load; InputError naming the file when it is not a session.
    int addAbSessionFile(const QString &path);

    const std::vector<LeaderboardModel> &models() const { return m_models; }
    const std::vector<PairwiseOutcome> &comparisons() const { return m_comparisons; }
    const QStringList &sources() const { return m_sources; } // "study X: 12", "file.json: 9"
    // Current labels left out because a sample has no model recorded (imported samples).
    int labelsWithoutModel() const { return m_labelsWithoutModel; }

private:
    int modelIndex(const QString &key, const QString &name, const QString &bundlePath,
                   const QString &adapterPath);
    QString directoryKey(const QString &path);

    std::vector<LeaderboardModel> m_models;
    std::vector<PairwiseOutcome> m_comparisons;
    QStringList m_sources;
    int m_labelsWithoutModel = 0;
    QHash<QString, QString> m_hashes; // directory path -> content hash
};

struct LeaderboardOptions {
    double ridge = 0.1;     // BradleyTerryOptions::ridge
    int replicates = 1000;  // bootstrap
    std::uint64_t seed = 1; // bootstrap
    double level = 0.95;
    QString anchor; // a model's name; empty: the default anchor
};

struct LeaderboardRow {
    LeaderboardModel model;
    double rating = 0; // log-odds, anchor 0
    double lower = 0;  // bootstrap interval of the rating
    double upper = 0;
    int wins = 0;
    int ties = 0;
    int losses = 0;
    int count() const { return wins + ties + losses; }
    double elo() const { return 1000.0 + kEloPerLogOdds * rating; }
};

struct Leaderboard {
    std::vector<LeaderboardRow> rows; // best first
    QString anchor;
    int comparisons = 0;
    LeaderboardOptions options;
    QStringList sources;
    int notConverged = 0; // bootstrap fits that did not converge
};

// InputError when there is no comparison between two different models, or the anchor names no
// model (the message lists the names).
Leaderboard computeLeaderboard(const LeaderboardData &data, const LeaderboardOptions &options);

// format "motionpref-leaderboard": method, options, sources, and one object per model.
QJsonObject leaderboardToJson(const Leaderboard &board);
// One row per model, header first (RFC 4180 quoting).
QString leaderboardToCsv(const Leaderboard &board);
// Aligned columns for a terminal.
QString leaderboardToText(const Leaderboard &board);

} // namespace mp
