// Study import (app/study/study_io): the paper's preference JSONL records, checked line by line
// and stored in one transaction into a study of this process.
// QVariant complete first: clang 14 in C++20 instantiates QList<QVariant> where it is named.
#include <QVariant>

#include "app/study/study_io.h"
#include "app/study/study_store.h"
#include "tests/fuzz/fuzz_common.h"

#include <QCoreApplication>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static int argc = 1;
    static char name[] = "fuzz_study_jsonl";
    static char *argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv);
    static mp::StudyStore *store = [] {
        const auto path = mp::fuzz::scratchDir() / "fuzz.mpstudy";
        std::filesystem::remove(path);
        auto *created = new mp::StudyStore;
        created->open(QString::fromStdString(path.string()), true);
        return created;
    }();
    return mp::fuzz::run([&] {
        const auto path = mp::fuzz::writeScratch("labels.jsonl", mp::fuzz::text(data, size));
        mp::importPaperJsonl(*store, QString::fromStdString(path.string()));
    });
}
