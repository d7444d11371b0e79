// motionpref: the desktop application.
//   motionpref [FILE]   FILE: a study (.mpstudy or a PostgreSQL URL), a motion (.npy, .bvh) or a
//                       run directory, opened in its panel

#include "app/core/settings.h"
#include "ml/core/device.h"
#include "ml/core/version.h"
#include "ui/main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include <cstring>

namespace {

void describeCommandLine(QCommandLineParser &parser)
{
    parser.setApplicationDescription(
        QStringLiteral("MotionPref Studio: label pairs of generated human motions, train the "
                       "generator on the labels (DPO, IPO, KTO, RLHF), compare and export."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("file"),
        QStringLiteral("A study (.mpstudy, or postgresql://...), a motion (.npy, .bvh) or a run "
                       "directory to open."),
        QStringLiteral("[file]"));
}

// --help and --version print and exit without a display (a QCoreApplication is enough).
bool printsOnly(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i)
        for (const char *option : {"--help", "-h", "-?", "--help-all", "--version", "-v"})
            if (std::strcmp(argv[i], option) == 0)
                return true;
    return false;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication::setOrganizationName(QStringLiteral("MotionPref"));
    QCoreApplication::setApplicationName(QStringLiteral("MotionPref Studio"));
    QCoreApplication::setApplicationVersion(QString::fromStdString(mp::projectVersion()));
    QCommandLineParser parser;
    describeCommandLine(parser);
    if (printsOnly(argc, argv)) {
        QCoreApplication core(argc, argv);
        parser.process(core); // prints and exits
        return 0;
    }

    QApplication application(argc, argv);
    // The window icon (packaging/icons) and the desktop entry it belongs to (Wayland, task bars).
    QIcon icon;
    for (const int size : {32, 64, 256})
        icon.addFile(QStringLiteral(":/icons/motionpref-%1.png").arg(size));
    QApplication::setWindowIcon(icon);
    QGuiApplication::setDesktopFileName(QStringLiteral("motionpref"));
    parser.process(application); // an unknown option: a message and exit 1
    mp::configureTorchThreads();

    mp::Settings settings;
    mp::MainWindow window(settings);
    window.show();
    const QStringList files = parser.positionalArguments();
    if (!files.isEmpty())
        window.openPath(files.first());
    return QApplication::exec();
}
