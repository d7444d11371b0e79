#pragma once
// What the study commands share: cmd_study.cpp (the store alone, in the command library without
// LibTorch) and cmd_study_data.cpp (motions and models, in the LibTorch one).

#include "app/cli/command.h"

#include <QCoreApplication>
#include <QString>

#include <memory>
#include <string>

namespace mp {
class StudyStore;
}

namespace mp::cli {

// Qt's SQL drivers are plugins found through the application object. It lives for one
// command (declared before the store, so it outlives it), never until static destruction.
class QtApplicationScope {
public:
    QtApplicationScope()
    {
        if (!QCoreApplication::instance())
            m_app = std::make_unique<QCoreApplication>(m_argc, m_argv);
    }

private:
    int m_argc = 1;
    char m_name[16] = "motionpref-cli";
    char *m_argv[2] = {m_name, nullptr};
    std::unique_ptr<QCoreApplication> m_app;
};

QString qs(const std::string &text);

inline const std::string kStudyHelp =
    "STUDY is a study file (SQLite, made by 'study create') or a "
    "PostgreSQL connection string\npostgresql://user:password@host:"
    "port/dbname (a study shared by a lab).";

// Opens the STUDY positional argument.
void openStudy(StudyStore &store, const ParsedArgs &args);

// VALUE with DECIMALS decimals, "n/a" for NaN; jsonNumber gives 0 for NaN.
std::string number(double value, int decimals = 3);
double jsonNumber(double value);

} // namespace mp::cli
