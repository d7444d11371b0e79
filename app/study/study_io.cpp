#include "app/study/study_io.h"

#include "app/core/error_text.h"
#include "app/study/study_store.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTextStream>

#include <map>
#include <set>

#if __has_include("ml/data/npy.h")
#include "ml/data/npy.h"
#define MP_HAVE_NPY 1
#endif

namespace mp {

namespace {

// The VQ-VAE codebook size of MotionGPT (spec §1.3): codes 0..511, 512/513 start and end.
constexpr int kNumCodes = 512;
// Lines listed in an ImportError before "... and N more": enough to see the pattern.
constexpr int kMaxListedErrors = 50;

struct ParsedLabel {
    QString labeler;
    LabelInput input;
};

struct ParsedRecord {
    int line = 0;
    QString externalId;
    QString prompt;
    SampleInfo samples[2];
    int leftSample = 1;
    std::vector<ParsedLabel> labels;
};

// Collects the problems of one line; the first one is enough to reject it.
class LineCheck {
public:
    LineCheck(QString file, int line) : m_prefix(QStringLiteral("%1:%2: ").arg(file).arg(line)) {}
    void fail(const QString &problem)
    {
        if (m_error.isEmpty())
            m_error = m_prefix + problem;
    }
    bool ok() const { return m_error.isEmpty(); }
    QString error() const { return m_error; }

private:
    QString m_prefix;
    QString m_error;
};

std::optional<std::vector<int>> tokensFromJson(const QJsonValue &value, const QString &where,
                                               LineCheck &check)
{
    if (!value.isArray()) {
        check.fail(where + QStringLiteral(": \"tokens\" must be an array of integers"));
        return std::nullopt;
    }
    std::vector<int> tokens;
    for (const QJsonValue &item : value.toArray()) {
        const double code = item.toDouble(-1);
        if (!item.isDouble() || code != static_cast<int>(code) || code < 0 || code >= kNumCodes) {
            check.fail(where + QStringLiteral(": token %1 is not a code 0..%2")
                                   .arg(item.toVariant().toString())
                                   .arg(kNumCodes - 1));
            return std::nullopt;
        }
        tokens.push_back(static_cast<int>(code));
    }
    return tokens;
}

void parseSample(const QJsonObject &record, const QString &key, const QString &root,
                 const PaperImportOptions &options, SampleInfo &info, LineCheck &check)
{
    const QJsonValue value = record.value(key);
    if (!value.isObject()) {
        check.fail(QStringLiteral("missing \"%1\" object").arg(key));
        return;
    }
    const QJsonObject sample = value.toObject();
    const QJsonValue seed = sample.value(QLatin1String("seed"));
    if (!seed.isUndefined()) {
        const double s = seed.toDouble(0.5);
        if (!seed.isDouble() || s != static_cast<double>(static_cast<qint64>(s)))
            check.fail(key + QStringLiteral(": \"seed\" must be an integer"));
        info.seed = static_cast<qint64>(s);
    }
    info.featuresPath = sample.value(QLatin1String("features")).toString();
    info.origin = sample.value(QLatin1String("from")).toString();
    info.temperature = sample.value(QLatin1String("temperature")).toDouble(1.0);
    info.topK = sample.value(QLatin1String("top_k")).toInt(0);
    info.topP = sample.value(QLatin1String("top_p")).toDouble(1.0);
    if (sample.contains(QLatin1String("tokens"))) {
        if (auto tokens = tokensFromJson(sample.value(QLatin1String("tokens")), key, check))
            info.tokens = *tokens;
        return;
    }
    if (info.featuresPath.isEmpty()) {
        if (options.requireTokens)
            check.fail(key + QStringLiteral(": no \"tokens\" and no \"features\" path to find "
                                            "its token file by"));
        return;
    }
    const QString tokenPath = QDir(root).filePath(tokenPathFor(info.featuresPath));
    if (!QFileInfo::exists(tokenPath)) {
        if (options.requireTokens)
            check.fail(key + QStringLiteral(": token file %1 does not exist").arg(tokenPath));
        return;
    }
    try {
        info.tokens = readTokenFile(tokenPath);
    } catch (const InputError &e) {
        check.fail(key + QStringLiteral(": ") + errorText(e));
    }
}

void parseChosen(const QJsonObject &record, const PaperImportOptions &options, ParsedRecord &out,
                 LineCheck &check)
{
    const QJsonValue chosen = record.value(QLatin1String("chosen"));
    if (chosen.isUndefined())
        return; // an unlabeled pair
    if (!chosen.isArray()) {
        check.fail(QStringLiteral("\"chosen\" must be a list of annotations"));
        return;
    }
    int index = 0;
    for (const QJsonValue &entryValue : chosen.toArray()) {
        const QString where = QStringLiteral("chosen[%1]").arg(index++);
        const QJsonObject entry = entryValue.toObject();
        if (!entryValue.isObject()) {
            check.fail(where + QStringLiteral(": not an object"));
            return;
        }
        ParsedLabel label;
        label.labeler = entry.value(QLatin1String("user")).toVariant().toString();
        if (label.labeler.isEmpty())
            label.labeler = options.defaultLabeler;
        const QString choiceText = entry.value(QLatin1String("choice")).toString();
        const auto choice = choiceFromName(choiceText);
        if (!choice) {
            check.fail(where + QStringLiteral(": unknown choice '%1' (expected sample_1, "
                                              "sample_2, skipped or unsure)")
                                   .arg(choiceText));
            return;
        }
        label.input.choice = *choice;
        const QJsonValue degreeValue = entry.value(QLatin1String("degree of preference"));
        if (*choice == Choice::Sample1 || *choice == Choice::Sample2) {
            const auto degree = degreeFromName(degreeValue.toString());
            if (!degree) {
                check.fail(where + QStringLiteral(": unknown degree of preference '%1' "
                                                  "(expected Much better, Better, Slightly "
                                                  "better or Negligibly better/unsure)")
                                       .arg(degreeValue.toVariant().toString()));
                return;
            }
            label.input.degree = degree;
        }
        if (*choice == Choice::Skipped) {
            const QString reason = entry.value(QLatin1String("skip_reason")).toString();
            const auto parsed = skipReasonFromName(reason);
            if (!parsed) {
                check.fail(where + QStringLiteral(": unknown skip_reason '%1'").arg(reason));
                return;
            }
            label.input.skipReason = *parsed;
        }
        const QJsonValue tags = entry.value(QLatin1String("reason_tags"));
        if (!tags.isUndefined()) {
            if (!tags.isArray() || *choice != Choice::Skipped) {
                check.fail(where + QStringLiteral(": \"reason_tags\" must be a list, on a skip"));
                return;
            }
            for (const QJsonValue &tag : tags.toArray()) {
                const auto parsed = reasonTagFromName(tag.toString());
                if (!parsed) {
                    check.fail(where + QStringLiteral(": unknown reason tag '%1'")
                                           .arg(tag.toVariant().toString()));
                    return;
                }
                label.input.tags.push_back(*parsed);
            }
        }
        const QJsonValue watched = entry.value(QLatin1String("watched_both"));
        if (watched.isBool())
            label.input.watchedBoth = watched.toBool();
        label.input.comment = entry.value(QLatin1String("comment")).toString();
        label.input.timeOnTaskMs =
            static_cast<qint64>(entry.value(QLatin1String("time_on_task_ms")).toDouble(0));
        out.labels.push_back(label);
    }
}

std::optional<ParsedRecord> parseRecord(const QByteArray &text, const QString &root,
                                        const PaperImportOptions &options, LineCheck &check)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError) {
        check.fail(QStringLiteral("not valid JSON (%1 at byte %2)")
                       .arg(error.errorString())
                       .arg(error.offset + 1));
        return std::nullopt;
    }
    if (!document.isObject()) {
        check.fail(QStringLiteral("a record must be a JSON object"));
        return std::nullopt;
    }
    const QJsonObject record = document.object();
    ParsedRecord out;
    const QJsonValue id = record.value(QLatin1String("id"));
    if (!id.isUndefined() && !id.isNull())
        out.externalId =
            id.isDouble() ? QString::number(static_cast<qint64>(id.toDouble())) : id.toString();
    out.prompt = record.value(QLatin1String("prompt")).toString();
    if (out.prompt.trimmed().isEmpty())
        check.fail(QStringLiteral("missing or empty \"prompt\""));
    parseSample(record, QStringLiteral("sample_1"), root, options, out.samples[0], check);
    parseSample(record, QStringLiteral("sample_2"), root, options, out.samples[1], check);
    const QString left = record.value(QLatin1String("left")).toString(QStringLiteral("sample_1"));
    if (left == QLatin1String("sample_2"))
        out.leftSample = 2;
    else if (left != QLatin1String("sample_1"))
        check.fail(QStringLiteral("\"left\" must be sample_1 or sample_2"));
    parseChosen(record, options, out, check);
    if (!check.ok())
        return std::nullopt;
    return out;
}

QJsonArray tokensToJson(const std::vector<int> &tokens)
{
    QJsonArray array;
    for (int token : tokens)
        array.append(token);
    return array;
}

QJsonObject sampleToJson(const SampleInfo &sample)
{
    QJsonObject out;
    if (!sample.featuresPath.isEmpty())
        out.insert(QStringLiteral("features"), sample.featuresPath);
    out.insert(QStringLiteral("seed"), static_cast<double>(sample.seed));
    out.insert(QStringLiteral("from"),
               sample.origin.isEmpty() ? QStringLiteral("motionpref") : sample.origin);
    out.insert(QStringLiteral("tokens"), tokensToJson(sample.tokens));
    out.insert(QStringLiteral("temperature"), sample.temperature);
    out.insert(QStringLiteral("top_k"), sample.topK);
    out.insert(QStringLiteral("top_p"), sample.topP);
    return out;
}

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

QString sampleKey(int sample)
{
    return sample == 2 ? QStringLiteral("sample_2") : QStringLiteral("sample_1");
}

std::vector<PairInfo> selectedPairs(const StudyStore &store, const ExportOptions &options)
{
    std::vector<PairInfo> all = store.pairs();
    if (!options.pairIds)
        return all;
    std::map<qint64, PairInfo> byId;
    for (PairInfo &pair : all)
        byId.emplace(pair.id, std::move(pair));
    std::vector<PairInfo> out;
    for (qint64 id : *options.pairIds) {
        const auto found = byId.find(id);
        if (found == byId.end())
            throw InputError("pair " + std::to_string(id) + " is not in the study");
        out.push_back(found->second);
    }
    return out;
}

std::map<qint64, std::vector<LabelRecord>> currentLabelsByPair(const StudyStore &store)
{
    std::map<qint64, std::vector<LabelRecord>> out;
    for (LabelRecord &label : store.currentLabels())
        out[label.pairId].push_back(std::move(label));
    return out;
}

} // namespace

QString tokenPathFor(const QString &featuresPath)
{
    QString path = featuresPath.left(featuresPath.size() - 4);
    path.replace(QLatin1String("data2"), QLatin1String("data3"));
    path += QLatin1String("_token.npy");
    path.replace(QLatin1String("features"), QLatin1String("tokens"));
    return path;
}

QString motionString(const std::vector<int> &tokens)
{
    QString out = QStringLiteral("<motion_id_%1>").arg(kNumCodes);
    for (int token : tokens)
        out += QStringLiteral("<motion_id_%1>").arg(token);
    out += QStringLiteral("<motion_id_%1>").arg(kNumCodes + 1);
    return out;
}

std::vector<int> readTokenFile(const QString &path)
{
#ifdef MP_HAVE_NPY
    const at::Tensor tensor = npy::read(path.toStdString());
    const auto shape = tensor.sizes();
    if (tensor.is_floating_point() || tensor.is_complex() ||
        !(tensor.dim() == 1 || (tensor.dim() == 2 && shape[0] == 1)))
        throw InputError(path.toStdString() +
                         ": expected integer tokens of shape (1, T) or (T), got " +
                         std::string(c10::toString(tensor.scalar_type())) + " " + c10::str(shape));
    const at::Tensor codes = tensor.reshape({-1}).to(at::kLong).contiguous();
    const auto *data = codes.data_ptr<int64_t>();
    std::vector<int> tokens;
    tokens.reserve(static_cast<std::size_t>(codes.numel()));
    for (int64_t i = 0; i < codes.numel(); ++i) {
        if (data[i] < 0 || data[i] >= kNumCodes)
            throw InputError(path.toStdString() + ": token " + std::to_string(data[i]) + " at " +
                             std::to_string(i) + " is not a code 0..511");
        tokens.push_back(static_cast<int>(data[i]));
    }
    return tokens;
#else
    throw InputError(path.toStdString() +
                     ": this build cannot read .npy token files yet; give the samples inline "
                     "\"tokens\"");
#endif
}

ImportReport importPaperJsonl(StudyStore &store, const QString &file,
                              const PaperImportOptions &options)
{
    QFile in(file);
    if (!in.open(QIODevice::ReadOnly))
        throw InputError(file.toStdString() + ": " + in.errorString().toStdString());
    const QString root =
        options.datasetRoot.isEmpty() ? QFileInfo(file).absolutePath() : options.datasetRoot;
    const QString name = QFileInfo(file).fileName();

    // Pass 1: parse and check every line; nothing is written while any line is bad.
    std::vector<ParsedRecord> records;
    QStringList errors;
    std::map<QString, int> seenIds;
    int lineNumber = 0;
    while (!in.atEnd()) {
        const QByteArray line = in.readLine();
        ++lineNumber;
        if (line.trimmed().isEmpty())
            continue;
        LineCheck check(name, lineNumber);
        auto record = parseRecord(line, root, options, check);
        if (record && !record->externalId.isEmpty()) {
            const auto [it, fresh] = seenIds.emplace(record->externalId, lineNumber);
            if (!fresh)
                check.fail(QStringLiteral("id '%1' repeats line %2")
                               .arg(record->externalId)
                               .arg(it->second));
            else if (store.pairByExternalId(record->externalId))
                check.fail(
                    QStringLiteral("id '%1' is already in the study").arg(record->externalId));
        }
        if (!check.ok())
            errors << check.error();
        else
            records.push_back(std::move(*record));
    }
    if (!errors.isEmpty()) {
        QStringList listed = errors.mid(0, kMaxListedErrors);
        if (errors.size() > kMaxListedErrors)
            listed << QStringLiteral("... and %1 more").arg(errors.size() - kMaxListedErrors);
        throw ImportError(errors.front().toStdString() +
                              (errors.size() > 1 ? " (and " + std::to_string(errors.size() - 1) +
                                                       " more bad lines)"
                                                 : std::string()) +
                              "; nothing imported",
                          listed);
    }
    if (records.empty())
        throw InputError(file.toStdString() + ": no records");

    // Pass 2: everything in one transaction.
    ImportReport report;
    store.runInTransaction([&] {
        std::map<QString, qint64> promptIds;
        for (ParsedRecord &record : records) {
            auto [it, fresh] = promptIds.emplace(record.prompt, 0);
            if (fresh) {
                it->second = store.addPrompt(record.prompt, PromptSource::Imported);
                ++report.prompts;
            }
            qint64 sampleIds[2];
            for (int s = 0; s < 2; ++s) {
                record.samples[s].promptId = it->second;
                sampleIds[s] = store.addSample(record.samples[s]);
            }
            const qint64 pairId = store.addPair(it->second, sampleIds[0], sampleIds[1],
                                                record.leftSample, record.externalId);
            for (const ParsedLabel &label : record.labels) {
                store.addLabel(pairId, label.labeler, label.input);
                ++report.labels;
            }
            ++report.records;
        }
    });
    return report;
}

std::optional<ExportFormat> exportFormatFromName(const QString &name)
{
    if (name == QLatin1String("paper"))
        return ExportFormat::Paper;
    if (name == QLatin1String("trl"))
        return ExportFormat::Trl;
    if (name == QLatin1String("csv"))
        return ExportFormat::Csv;
    return std::nullopt;
}

int exportStudy(const StudyStore &store, const QString &file, ExportFormat format,
                const ExportOptions &options)
{
    const std::vector<PairInfo> pairs = selectedPairs(store, options);
    const auto labels = currentLabelsByPair(store);
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly))
        throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
    auto writeLine = [&](const QByteArray &line) {
        if (out.write(line) != line.size() || out.write("\n", 1) != 1)
            throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
    };
    auto writeJson = [&](const QJsonObject &object) {
        writeLine(QJsonDocument(object).toJson(QJsonDocument::Compact));
    };
    static const std::vector<LabelRecord> kNone;
    int written = 0;
    if (format == ExportFormat::Csv) {
        writeLine("pair_id,external_id,prompt,labeler,choice,shown_side,degree,sample_1_preference,"
                  "skip_reason,time_on_task_ms,created_at,left_is,sample_1_seed,sample_2_seed,"
                  "comment,reason_tags,watched_both");
    }
    for (const PairInfo &pair : pairs) {
        const auto found = labels.find(pair.id);
        const std::vector<LabelRecord> &current = found == labels.end() ? kNone : found->second;
        if (format == ExportFormat::Paper) {
            QJsonObject record;
            record.insert(QStringLiteral("id"),
                          pair.externalId.isEmpty() ? QString::number(pair.id) : pair.externalId);
            record.insert(QStringLiteral("prompt"), pair.promptText);
            record.insert(QStringLiteral("sample_1"), sampleToJson(store.sample(pair.sample1Id)));
            record.insert(QStringLiteral("sample_2"), sampleToJson(store.sample(pair.sample2Id)));
            record.insert(QStringLiteral("left"), sampleKey(pair.leftSample));
            QJsonArray chosen; // oldest first: the last entry is the pair's current label
            for (const LabelRecord &label : current) {
                QJsonObject entry;
                entry.insert(QStringLiteral("choice"), choiceName(*label.choice));
                if (label.degree)
                    entry.insert(QStringLiteral("degree of preference"), degreeName(*label.degree));
                entry.insert(QStringLiteral("user"), label.labeler);
                if (label.skipReason != SkipReason::None)
                    entry.insert(QStringLiteral("skip_reason"), skipReasonName(label.skipReason));
                if (!label.tags.empty()) {
                    QJsonArray tags;
                    for (ReasonTag tag : label.tags)
                        tags.append(reasonTagName(tag));
                    entry.insert(QStringLiteral("reason_tags"), tags);
                }
                if (label.watchedBoth)
                    entry.insert(QStringLiteral("watched_both"), *label.watchedBoth);
                if (!label.comment.isEmpty())
                    entry.insert(QStringLiteral("comment"), label.comment);
                entry.insert(QStringLiteral("time_on_task_ms"),
                             static_cast<double>(label.timeOnTaskMs));
                entry.insert(QStringLiteral("created_at"), isoTime(label.createdAtMs));
                chosen.append(entry);
            }
            record.insert(QStringLiteral("chosen"), chosen);
            writeJson(record);
            ++written;
        } else if (format == ExportFormat::Trl) {
            if (current.empty())
                continue;
            const LabelRecord &label = current.back(); // the pair's current label
            if (label.choice != Choice::Sample1 && label.choice != Choice::Sample2)
                continue;
            const bool first = label.choice == Choice::Sample1;
            const SampleInfo chosenSample = store.sample(first ? pair.sample1Id : pair.sample2Id);
            const SampleInfo rejected = store.sample(first ? pair.sample2Id : pair.sample1Id);
            QJsonObject record;
            record.insert(QStringLiteral("prompt"), pair.promptText);
            record.insert(QStringLiteral("chosen"), motionString(chosenSample.tokens));
            record.insert(QStringLiteral("rejected"), motionString(rejected.tokens));
            record.insert(QStringLiteral("margin"), static_cast<int>(*label.degree));
            record.insert(QStringLiteral("degree"), degreeName(*label.degree));
            record.insert(QStringLiteral("annotator"), label.labeler);
            record.insert(QStringLiteral("time_on_task_ms"),
                          static_cast<double>(label.timeOnTaskMs));
            record.insert(QStringLiteral("left_is"), sampleKey(pair.leftSample));
            record.insert(QStringLiteral("pair_id"), static_cast<double>(pair.id));
            writeJson(record);
            ++written;
        } else {
            const SampleInfo s1 = store.sample(pair.sample1Id);
            const SampleInfo s2 = store.sample(pair.sample2Id);
            for (const LabelRecord &label : current) {
                QString side;
                if (label.choice == Choice::Sample1 || label.choice == Choice::Sample2) {
                    const int picked = label.choice == Choice::Sample1 ? 1 : 2;
                    side = picked == pair.leftSample ? QStringLiteral("left")
                                                     : QStringLiteral("right");
                }
                const auto margin = signedPreference(*label.choice, label.degree);
                QStringList tagNames;
                for (ReasonTag tag : label.tags)
                    tagNames << reasonTagName(tag);
                const QStringList cells{
                    QString::number(pair.id),
                    csvCell(pair.externalId, true),
                    csvCell(pair.promptText, true),
                    csvCell(label.labeler, true),
                    choiceName(*label.choice),
                    side,
                    label.degree ? degreeName(*label.degree) : QString(),
                    margin ? QString::number(*margin) : QString(),
                    skipReasonName(label.skipReason),
                    QString::number(label.timeOnTaskMs),
                    isoTime(label.createdAtMs),
                    sampleKey(pair.leftSample),
                    QString::number(s1.seed),
                    QString::number(s2.seed),
                    csvCell(label.comment, true),
                    tagNames.join(QLatin1Char(';')),
                    label.watchedBoth ? QString::number(*label.watchedBoth ? 1 : 0) : QString(),
                };
                writeLine(cells.join(QLatin1Char(',')).toUtf8());
                ++written;
            }
        }
    }
    if (!out.commit())
        throw InputError(file.toStdString() + ": " + out.errorString().toStdString());
    return written;
}

} // namespace mp
