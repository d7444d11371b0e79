#include "app/study/feature_export.h"

#include "app/study/sample_motion.h"
#include "app/study/study_store.h"
#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"

// LibTorch's jit headers have a member named slots(), which Qt's keyword macro would eat.
#pragma push_macro("slots")
#undef slots
#include "ml/models/bundle.h"
#pragma pop_macro("slots")

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <map>
#include <memory>
#include <set>

namespace mp {

namespace {

constexpr double kHumanMl3dFps = 20.0; // HumanML3D's frame rate; every bundle here uses it too

[[noreturn]] void fail(const QString &where, const std::string &problem)
{
    throw InputError(where.toStdString() + ": " + problem);
}

void writeText(const QString &path, const QByteArray &bytes)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        fail(path, file.errorString().toStdString());
    file.write(bytes);
    if (!file.commit())
        fail(path, file.errorString().toStdString());
}

// Loads each model's bundle once (by path), for samples that hold only codes.
class Decoders {
public:
    Decoders(const StudyStore &store, const QString &fallbackDir) : m_fallbackDir(fallbackDir)
    {
        for (const ModelInfo &model : store.models())
            m_modelPaths.emplace(model.id, model.path);
    }

    ModelBundle *bundleFor(const SampleInfo &sample)
    {
        QString dir;
        if (sample.modelId && m_modelPaths.count(*sample.modelId) &&
            QFileInfo(m_modelPaths.at(*sample.modelId)).isDir())
            dir = m_modelPaths.at(*sample.modelId);
        else
            dir = m_fallbackDir;
        if (dir.isEmpty())
            throw InputError(
                "sample " + std::to_string(sample.id) +
                " has only motion codes and its model's bundle " +
                (sample.modelId && m_modelPaths.count(*sample.modelId)
                     ? "(" + m_modelPaths.at(*sample.modelId).toStdString() + ") is not there"
                     : std::string("is not recorded")) +
                ": give a bundle to decode them (--model DIR)");
        auto found = m_bundles.find(dir);
        if (found == m_bundles.end())
            found = m_bundles.emplace(dir, std::make_unique<ModelBundle>(dir.toStdString())).first;
        return found->second.get();
    }

private:
    QString m_fallbackDir;
    std::map<qint64, QString> m_modelPaths;
    std::map<QString, std::unique_ptr<ModelBundle>> m_bundles;
};

} // namespace

FeatureExportReport exportFeatures(const StudyStore &store, const QString &directory,
                                   const FeatureExportOptions &options, bool overwrite,
                                   const ProgressFn &progress)
{
    const QDir dir(directory);
    if (!overwrite && QFileInfo::exists(dir.filePath(QStringLiteral("pairs.jsonl"))))
        fail(directory, "holds a pairs.jsonl already (choose an empty directory)");
    if (!QDir().mkpath(dir.filePath(QStringLiteral("motions"))))
        fail(directory, "cannot create the directory");

    std::map<qint64, PairInfo> pairs;
    for (PairInfo &pair : store.pairs())
        pairs.emplace(pair.id, std::move(pair));
    if (options.pairIds)
        for (qint64 id : *options.pairIds)
            if (!pairs.count(id))
                throw InputError("pair " + std::to_string(id) + " is not in the study");
    const std::set<qint64> wanted =
        options.pairIds ? std::set<qint64>(options.pairIds->begin(), options.pairIds->end())
                        : std::set<qint64>();
    std::vector<LabelRecord> labels;
    for (const LabelRecord &label : store.currentLabels())
        if ((label.choice == Choice::Sample1 || label.choice == Choice::Sample2) &&
            !label.retracted && pairs.count(label.pairId) &&
            (!options.pairIds || wanted.count(label.pairId)))
            labels.push_back(label);

    std::map<qint64, QString> modelNames;
    for (const ModelInfo &model : store.models())
        modelNames.emplace(model.id, model.name);
    std::map<qint64, QString> adapterNames;
    for (const ModelInfo &adapter : store.adapters())
        adapterNames.emplace(adapter.id, adapter.name);

    FeatureExportReport report;
    Decoders decoders(store, options.modelDir);
    std::map<qint64, QJsonObject> written; // sample id -> its MOTION object
    const auto exportSample = [&](qint64 sampleId) {
        if (const auto found = written.find(sampleId); found != written.end())
            return found->second;
        const SampleInfo sample = store.sample(sampleId);
        const bool decode = sampleNeedsModel(sample);
        std::string source;
        const at::Tensor array =
            sampleArray(sample, decode ? decoders.bundleFor(sample) : nullptr, &source)
                .to(at::kFloat)
                .contiguous();
        if (array.dim() != 2 || array.size(1) != 263 || array.size(0) < 1)
            throw InputError(source + ": expected HumanML3D features (T, 263), got " +
                             std::to_string(array.dim()) + " dimensions" +
                             (array.dim() == 3 ? " (joints? features are needed)" : ""));
        const at::Tensor joints = recoverFromRic(array).to(at::kFloat).contiguous();
        const QString stem = QStringLiteral("motions/sample_%1").arg(sampleId);
        const QString featuresFile = stem + QStringLiteral("_features.npy");
        const QString jointsFile = stem + QStringLiteral("_joints.npy");
        npy::write(dir.filePath(featuresFile).toStdString(), array);
        npy::write(dir.filePath(jointsFile).toStdString(), joints);
        ++report.motions;
        report.decoded += decode ? 1 : 0;
        QJsonObject motion{
            {QStringLiteral("sample_id"), static_cast<double>(sampleId)},
            {QStringLiteral("model"), sample.modelId && modelNames.count(*sample.modelId)
                                          ? QJsonValue(modelNames.at(*sample.modelId))
                                          : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("adapter"), sample.adapterId && adapterNames.count(*sample.adapterId)
                                            ? QJsonValue(adapterNames.at(*sample.adapterId))
                                            : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("seed"), static_cast<double>(sample.seed)},
            {QStringLiteral("temperature"), sample.temperature},
            {QStringLiteral("num_frames"), static_cast<double>(array.size(0))},
            {QStringLiteral("features"), featuresFile},
            {QStringLiteral("joints"), jointsFile}};
        written.emplace(sampleId, motion);
        return motion;
    };

    QByteArray lines;
    std::int64_t done = 0;
    for (const LabelRecord &label : labels) {
        const PairInfo &pair = pairs.at(label.pairId);
        const bool first = label.choice == Choice::Sample1;
        QJsonObject record{
            {QStringLiteral("pair_id"), static_cast<double>(pair.id)},
            {QStringLiteral("prompt"), pair.promptText},
            {QStringLiteral("chosen"), exportSample(first ? pair.sample1Id : pair.sample2Id)},
            {QStringLiteral("rejected"), exportSample(first ? pair.sample2Id : pair.sample1Id)},
            {QStringLiteral("labeler"), label.labeler},
            {QStringLiteral("time_on_task_ms"), static_cast<double>(label.timeOnTaskMs)}};
        if (label.degree) {
            record.insert(QStringLiteral("degree"), degreeName(*label.degree));
            record.insert(QStringLiteral("margin"), static_cast<int>(*label.degree));
        }
        lines += QJsonDocument(record).toJson(QJsonDocument::Compact) + '\n';
        ++report.records;
        reportProgress(progress, ++done, std::int64_t(labels.size()), "export features");
    }
    writeText(dir.filePath(QStringLiteral("pairs.jsonl")), lines);
    const QJsonObject meta{{QStringLiteral("format"), QStringLiteral("motionpref-features")},
                           {QStringLiteral("fps"), kHumanMl3dFps},
                           {QStringLiteral("feature_dim"), 263},
                           {QStringLiteral("num_joints"), 22},
                           {QStringLiteral("normalised"), false},
                           {QStringLiteral("study"), store.location()},
                           {QStringLiteral("pairs"), report.records},
                           {QStringLiteral("motions"), report.motions}};
    writeText(dir.filePath(QStringLiteral("meta.json")),
              QJsonDocument(meta).toJson(QJsonDocument::Indented));
    return report;
}

} // namespace mp
