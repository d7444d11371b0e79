// Labels are never lost: a child process writes labels in a loop and is killed with SIGKILL at
// random moments, a few hundred times. After each kill the study opens, passes PRAGMA
// integrity_check, holds every label whose write had returned (the child prints a label's id
// only after addLabel/retractLabel returned), and holds each multi-label transaction whole or
// not at all.
//
// The writer is a fork() of this test (no exec: loading the libraries again would cost a second
// per kill on a busy machine); it opens its own connection, as a separate program would.
// MP_DURABILITY_KILLS sets the number of kills (default 300, under a minute).

#include "app/study/study_store.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <map>
#include <set>

#include <csignal>
#include <cstdio>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mp;

namespace {

constexpr int kPairs = 12;
constexpr int kBatch = 5; // labels per multi-label transaction
// On a loaded machine the writer starts slowly; stop killing after this long (ctest's limit is
// 300 s) as long as enough kills were done.
constexpr qint64 kBudgetMs = 200000;
constexpr int kMinKills = 100;

int g_confirmations = -1; // the writer's end of the pipe

void say(const QByteArray &line)
{
    const QByteArray text = line + '\n';
    // write(2) straight to the pipe: nothing sits in a stdio buffer when the kill comes.
    qsizetype done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(g_confirmations, text.constData() + done,
                                  static_cast<size_t>(text.size() - done));
        if (n <= 0)
            return;
        done += n;
    }
}

int writeLabelsForever(const QString &location)
{
    StudyStore store;
    store.open(location);
    const QString labeler = QStringLiteral("w%1").arg(::getpid());
    const std::vector<PairInfo> pairs = store.pairs();
    for (quint64 i = 0;; ++i) {
        const qint64 pair = pairs[i % pairs.size()].id;
        if (i % 10 == 9) {
            // A batch: all of its labels are stored, or none.
            const QString tag = QStringLiteral("batch-%1-%2").arg(labeler).arg(i);
            QList<qint64> ids;
            store.runInTransaction([&] {
                for (int k = 0; k < kBatch; ++k) {
                    ids << store.addLabel(pairs[(i + k) % pairs.size()].id, labeler,
                                          {.choice = Choice::Unsure, .comment = tag});
                }
            });
            for (qint64 id : ids)
                say("L " + QByteArray::number(id));
        } else if (i % 7 == 6 && store.currentLabel(pair, labeler)) {
            say("R " + QByteArray::number(store.retractLabel(pair, labeler)));
        } else {
            const qint64 id = store.addLabel(pair, labeler,
                                             {.choice = i % 2 ? Choice::Sample1 : Choice::Sample2,
                                              .degree = static_cast<PreferenceDegree>(i % 4),
                                              .timeOnTaskMs = static_cast<qint64>(i)});
            say("L " + QByteArray::number(id));
        }
    }
}

struct Writer {
    pid_t pid = -1;
    int fd = -1; // the parent's end of the confirmation pipe
};

Writer startWriter(const QString &location)
{
    int fds[2];
    if (::pipe(fds) != 0)
        return {};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        g_confirmations = fds[1];
        try {
            writeLabelsForever(location);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "writer: %s\n", e.what());
        }
        ::_exit(3); // never run the parent's exit handlers
    }
    ::close(fds[1]);
    return {pid, fds[0]};
}

// Blocks until the writer confirmed a label or timeoutMs passed.
bool waitForFirstLine(const Writer &writer, int timeoutMs)
{
    pollfd p{writer.fd, POLLIN, 0};
    return ::poll(&p, 1, timeoutMs) == 1 && (p.revents & POLLIN);
}

// SIGKILL, reap, and everything it had written to the pipe (which outlives the writer).
// killed is false when the writer had ended by itself.
QByteArray killAndDrain(const Writer &writer, bool &killed)
{
    ::kill(writer.pid, SIGKILL);
    int status = 0;
    ::waitpid(writer.pid, &status, 0);
    killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    QByteArray out;
    char buffer[65536];
    ssize_t n = 0;
    while ((n = ::read(writer.fd, buffer, sizeof buffer)) > 0)
        out.append(buffer, n);
    ::close(writer.fd);
    return out;
}

} // namespace

class StudyDurabilityTest : public QObject {
    Q_OBJECT
private slots:
    void labelsSurviveSigkill()
    {
        QTemporaryDir dir;
        const QString location = dir.filePath(QStringLiteral("durable.sqlite"));
        {
            StudyStore store;
            store.open(location, true);
            const qint64 prompt = store.addPrompt(QStringLiteral("p"), PromptSource::Typed);
            for (int i = 0; i < kPairs; ++i) {
                store.addPair(prompt, store.addSample({.promptId = prompt, .seed = 2 * i}),
                              store.addSample({.promptId = prompt, .seed = 2 * i + 1}), 1);
            }
        }
        const int kills = qEnvironmentVariableIntValue("MP_DURABILITY_KILLS") > 0
                              ? qEnvironmentVariableIntValue("MP_DURABILITY_KILLS")
                              : 300;
        // How long a writer takes to open the study and store its first label (on a busy
        // machine, much more than usual); kills are spread over twice that plus 200 ms, so that
        // they land in the open and in the write loop alike.
        int startupMs = 0;
        {
            QElapsedTimer startup;
            startup.start();
            const Writer writer = startWriter(location);
            QVERIFY(writer.pid > 0);
            const bool wrote = waitForFirstLine(writer, 30000);
            startupMs = static_cast<int>(startup.elapsed());
            bool killed = false;
            killAndDrain(writer, killed);
            QVERIFY2(wrote && killed, "the writer did not store a label (see its stderr)");
        }
        const int spreadMs = 2 * startupMs + 200;
        std::map<qint64, bool> confirmed; // label id -> is a retraction
        int killedWhileWriting = 0;
        QElapsedTimer clock;
        clock.start();
        int round = 0;
        for (; round < kills && clock.elapsed() < kBudgetMs; ++round) {
            const Writer writer = startWriter(location);
            QVERIFY(writer.pid > 0);
            // Kill at any moment: while opening, writing or committing.
            QThread::msleep(
                static_cast<unsigned long>(QRandomGenerator::global()->bounded(0, spreadMs)));
            bool killed = false;
            const QByteArray output = killAndDrain(writer, killed);
            QVERIFY2(killed, "the writer ended by itself (see its stderr)");
            // Only whole lines: a line cut by the kill was never a confirmation.
            const QList<QByteArray> lines = output.left(output.lastIndexOf('\n') + 1).split('\n');
            int confirmedThisRound = 0;
            for (const QByteArray &line : lines) {
                if (line.size() < 3)
                    continue;
                confirmed[line.mid(2).toLongLong()] = line.startsWith('R');
                ++confirmedThisRound;
            }
            if (confirmedThisRound > 0)
                ++killedWhileWriting;

            StudyStore store;
            store.open(location);
            QCOMPARE(store.integrityCheck(), QStringLiteral("ok"));
            std::map<qint64, bool> stored;
            std::map<QString, int> batches;
            for (const LabelRecord &row : store.allLabelRows()) {
                stored[row.id] = row.retracted;
                if (row.comment.startsWith(QLatin1String("batch-")))
                    ++batches[row.comment];
            }
            for (const auto &[id, retraction] : confirmed) {
                const auto found = stored.find(id);
                QVERIFY2(found != stored.end(),
                         qPrintable(QStringLiteral("round %1: label %2 was confirmed but is "
                                                   "not in the study")
                                        .arg(round)
                                        .arg(id)));
                QCOMPARE(found->second, retraction);
            }
            for (const auto &[tag, count] : batches)
                QVERIFY2(count == kBatch, qPrintable(QStringLiteral("%1 stored %2 of %3 labels")
                                                         .arg(tag)
                                                         .arg(count)
                                                         .arg(kBatch)));
        }
        qInfo("%d kills in %.1f s (writer start-up %d ms, kills within %d ms); %d of them after "
              "labels had been confirmed; %zu confirmed labels, all present",
              round, clock.elapsed() / 1000.0, startupMs, spreadMs, killedWhileWriting,
              confirmed.size());
        // The test must have killed real writers, not only processes still starting up.
        QVERIFY2(round >= std::min(kills, kMinKills), "too few kills in the time budget");
        QVERIFY(killedWhileWriting >= round / 4);
        QVERIFY(confirmed.size() >= static_cast<std::size_t>(round));
    }
};

QTEST_GUILESS_MAIN(StudyDurabilityTest)
#include "study_durability_slowtest.moc"
