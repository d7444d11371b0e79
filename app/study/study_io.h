#pragma once
// A study in and out of files.
//
// Paper form (InstructMotion's preference_labels.jsonl, spec §1.1), one JSON object per line:
//   {"id": "17", "prompt": "a man walks",
//    "sample_1": {"features": "data2/features/17_1.npy", "seed": 3, "from": "motionGPT"},
//    "sample_2": {...},
//    "chosen": [{"choice": "sample_1", "degree of preference": "Better", "user": "ana"}, ...]}
// choice is sample_1, sample_2 or skipped (plus unsure, which this program writes for a tie);
// the latest chosen[] entry counts. Extensions this program writes and reads back: sample
// "tokens" (VQ codes), "temperature", "top_k", "top_p"; record "left" (which sample was shown on
// the left); entry "skip_reason", "reason_tags" (a skip's tags: wrong_action,
// wrong_count_direction, jitter, foot_skating, physically_impossible, too_short),
// "watched_both" (both motions played to the end before the vote), "time_on_task_ms",
// "comment", "created_at". Gold and repeat pairs (checks of the labelers) are not exported.
// Tokens on import: a sample's inline "tokens", else the token file the paper derives from the
// features path (tokenPathFor), an .npy of shape (1, T) with codes 0..511.
//
// TRL form: {"prompt", "chosen", "rejected"} with motion strings ("<motion_id_512>" codes
// "<motion_id_513>", spec §1.3), plus "margin" (0..3), "degree", "annotator", "time_on_task_ms",
// "left_is", "pair_id". Only pairs whose current label prefers a sample.
// CSV: one row per current label of every labeler, for spreadsheets (reason_tags joined by ';').

#include "ml/core/error.h"

#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace mp {

class StudyStore;

// An import that found bad records: each line's problem, "file:line: problem". Nothing of the
// file was stored.
class ImportError : public InputError {
public:
    ImportError(const std::string &summary, QStringList lineErrors)
        : InputError(summary), m_lineErrors(std::move(lineErrors))
    {
    }
    const QStringList &lineErrors() const { return m_lineErrors; }

private:
    QStringList m_lineErrors;
};

struct PaperImportOptions {
    QString datasetRoot; // token and feature paths are relative to it; default: the file's dir
    bool requireTokens = true; // a sample without inline tokens or a token file is an error
    QString defaultLabeler = QStringLiteral("imported"); // for entries without "user"
};

struct ImportReport {
    int records = 0;
    int labels = 0;
    int prompts = 0;
};

// Reads and checks every line first, then stores everything in one transaction.
// Throws ImportError (listing every bad line) or InputError (unreadable file).
ImportReport importPaperJsonl(StudyStore &store, const QString &file,
                              const PaperImportOptions &options = {});

enum class ExportFormat { Paper, Trl, Csv };
std::optional<ExportFormat> exportFormatFromName(const QString &name); // paper, trl, csv

struct ExportOptions {
    std::optional<std::vector<qint64>> pairIds; // default: every pair, in id order
};

// Writes atomically (QSaveFile); returns the number of records (rows) written.
int exportStudy(const StudyStore &store, const QString &file, ExportFormat format,
                const ExportOptions &options = {});

// Quotes a CSV cell when needed (RFC 4180); a text cell that a spreadsheet would run as a
// formula gets a leading apostrophe (the usual CSV-injection guard).
QString csvCell(const QString &value, bool text = false);
// The paper's token file for a features path: drop ".npy", data2 -> data3, append
// "_token.npy", then features -> tokens (every occurrence, as Python's str.replace).
QString tokenPathFor(const QString &featuresPath);
// "<motion_id_512><motion_id_c0>...<motion_id_513>", the sequence the T5 decoder learns.
QString motionString(const std::vector<int> &tokens);
// Reads a token file: int array of shape (1, T) or (T), codes 0..511. InputError otherwise.
std::vector<int> readTokenFile(const QString &path);

} // namespace mp
