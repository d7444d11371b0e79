// motionpref: the desktop application.

#include "app/core/settings.h"
#include "ml/core/device.h"
#include "ml/core/threading.h"
#include "ml/core/version.h"
#include "ui/main_window.h"

#include <QApplication>

int main(int argc, char **argv)
{
    mp::useSleepingThreadPools(argv);
    QApplication application(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("MotionPref"));
    QApplication::setApplicationName(QStringLiteral("MotionPref Studio"));
    QApplication::setApplicationVersion(QString::fromStdString(mp::projectVersion()));
    mp::configureTorchThreads();

    mp::Settings settings;
    mp::MainWindow window(settings);
    window.show();
    return QApplication::exec();
}
