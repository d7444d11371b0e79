#pragma once
// A private PostgreSQL server for tests: initdb into a temporary directory, pg_ctl start on a
// free local port (unix socket in the same directory), one fresh database per test, stopped in
// the destructor. As root, the server runs as "nobody" (PostgreSQL refuses to run as root).
// Uses Debian's server binaries (packaging/install-deps.sh --with-postgres).

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QTemporaryDir>

#include <algorithm>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mp::test {

class PgTestServer {
public:
    PgTestServer() { m_bin = findBinDir(); }
    ~PgTestServer() { stop(); }
    PgTestServer(const PgTestServer &) = delete;
    PgTestServer &operator=(const PgTestServer &) = delete;

    // Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<version>/bin.
    static QString findBinDir()
    {
        QDir root(QStringLiteral("/usr/lib/postgresql"));
        QStringList versions = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        std::sort(versions.begin(), versions.end(),
                  [](const QString &a, const QString &b) { return a.toInt() > b.toInt(); });
        for (const QString &version : versions) {
            const QString bin = root.filePath(version + QStringLiteral("/bin"));
            if (QFile::exists(bin + QStringLiteral("/pg_ctl")) &&
                QFile::exists(bin + QStringLiteral("/initdb")))
                return bin;
        }
        return {};
    }

    bool binariesFound() const { return !m_bin.isEmpty(); }
    bool driverFound() const { return QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")); }
    int port() const { return m_port; }
    QString error() const { return m_error; }

    bool start()
    {
        if (!m_dir.isValid())
            return failWith(QStringLiteral("cannot make a temporary directory"));
        m_port = freePort();
        if (m_port <= 0)
            return failWith(QStringLiteral("no free local port"));
        const QString data = m_dir.filePath(QStringLiteral("data"));
        if (::geteuid() == 0) {
            const passwd *nobody = ::getpwnam("nobody");
            if (!nobody)
                return failWith(QStringLiteral("running as root and there is no user 'nobody'"));
            QFile::setPermissions(m_dir.path(), QFile::ReadOwner | QFile::WriteOwner |
                                                    QFile::ExeOwner | QFile::ExeGroup |
                                                    QFile::ExeOther | QFile::ReadOther |
                                                    QFile::ReadGroup);
            if (::chown(m_dir.path().toLocal8Bit().constData(), nobody->pw_uid, nobody->pw_gid))
                return failWith(QStringLiteral("cannot hand %1 to 'nobody'").arg(m_dir.path()));
            m_runAs = {QStringLiteral("runuser"), QStringLiteral("-u"), QStringLiteral("nobody"),
                       QStringLiteral("--")};
        }
        if (!runTool(QStringLiteral("initdb"),
                     {QStringLiteral("-D"), data, QStringLiteral("-A"), QStringLiteral("trust"),
                      QStringLiteral("-U"), QStringLiteral("postgres"), QStringLiteral("--no-sync"),
                      QStringLiteral("-E"), QStringLiteral("UTF8")},
                     60000))
            return false;
        // fsync off: the test server's durability is not under test, its speed matters.
        const QString options = QStringLiteral("-p %1 -k %2 -c listen_addresses=127.0.0.1 "
                                               "-c fsync=off -c max_connections=40")
                                    .arg(m_port)
                                    .arg(m_dir.path());
        if (!runTool(QStringLiteral("pg_ctl"),
                     {QStringLiteral("-D"), data, QStringLiteral("-o"), options,
                      QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("60"),
                      QStringLiteral("-l"), m_dir.filePath(QStringLiteral("server.log")),
                      QStringLiteral("start")},
                     70000)) {
            QFile log(m_dir.filePath(QStringLiteral("server.log")));
            if (log.open(QIODevice::ReadOnly))
                m_error += QStringLiteral("\nserver.log: ") + QString::fromUtf8(log.readAll());
            return false;
        }
        m_running = true;
        return true;
    }

    void stop()
    {
        if (!m_running)
            return;
        runTool(QStringLiteral("pg_ctl"),
                {QStringLiteral("-D"), m_dir.filePath(QStringLiteral("data")), QStringLiteral("-m"),
                 QStringLiteral("immediate"), QStringLiteral("-w"), QStringLiteral("stop")},
                30000);
        m_running = false;
    }

    // Makes a new empty database and returns its connection string.
    QString createDatabase(const QString &name)
    {
        const QString connection = QStringLiteral("pg-test-admin");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connection);
            db.setHostName(QStringLiteral("127.0.0.1"));
            db.setPort(m_port);
            db.setUserName(QStringLiteral("postgres"));
            db.setDatabaseName(QStringLiteral("postgres"));
            if (!db.open()) {
                m_error = db.lastError().text();
            } else {
                QSqlQuery query(db);
                if (!query.exec(QStringLiteral("CREATE DATABASE \"%1\"").arg(name)))
                    m_error = query.lastError().text();
            }
        }
        QSqlDatabase::removeDatabase(connection);
        return connectionString(name);
    }

    QString connectionString(const QString &database) const
    {
        return QStringLiteral("postgresql://postgres@127.0.0.1:%1/%2").arg(m_port).arg(database);
    }

private:
    bool failWith(const QString &message)
    {
        m_error = message;
        return false;
    }

    bool runTool(const QString &tool, const QStringList &arguments, int timeoutMs)
    {
        QProcess process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.setWorkingDirectory(m_dir.path()); // nobody may not read the current directory
        QStringList command = m_runAs;
        command << m_bin + QLatin1Char('/') + tool << arguments;
        process.start(command.takeFirst(), command);
        if (!process.waitForFinished(timeoutMs) || process.exitStatus() != QProcess::NormalExit ||
            process.exitCode() != 0) {
            return failWith(QStringLiteral("%1 failed (exit %2): %3")
                                .arg(tool)
                                .arg(process.exitCode())
                                .arg(QString::fromLocal8Bit(process.readAll()).trimmed()));
        }
        return true;
    }

    static int freePort()
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0; // the kernel picks a free one
        socklen_t length = sizeof(address);
        int port = -1;
        if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
            port = ntohs(address.sin_port);
        ::close(fd);
        return port;
    }

    QTemporaryDir m_dir;
    QString m_bin;
    QStringList m_runAs;
    QString m_error;
    int m_port = 0;
    bool m_running = false;
};

} // namespace mp::test
