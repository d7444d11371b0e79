#include "ui/compare/blind_ab_page.h"

#include "app/compare/compare_generator.h"
#include "app/core/error_text.h"
#include "ml/core/error.h"
#include "ui/compare/ab_results_view.h"
#include "ui/compare/model_picker.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_bar.h"
#include "viewer/playback_clock.h"

#include <QAction>
#include <QCheckBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace mp {

namespace {
const QLatin1String kKeyPrefix("trial:");
} // namespace

BlindAbPage::BlindAbPage(CompareGenerator *generator, ModelPicker *pickerA, ModelPicker *pickerB,
                         const QString &defaultPromptFile, QWidget *parent)
    : QWidget(parent), m_generator(generator), m_pickerA(pickerA), m_pickerB(pickerB),
      m_clock(new PlaybackClock(this))
{
    setObjectName(QStringLiteral("blindAbPage"));
    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(buildTrialSide());
    splitter->addWidget(buildSessionSide(defaultPromptFile));
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setSizes({760, 460}); // the chart and the table need the room
    splitter->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter);
    connect(m_generator, &CompareGenerator::finished, this, &BlindAbPage::onResult);
    afterSessionChange();
}

// The trial: caption, the two hidden-model viewports, transport, answers.
QWidget *BlindAbPage::buildTrialSide()
{
    m_caption = new QLabel(this);
    m_caption->setObjectName(QStringLiteral("trialCaption"));
    m_caption->setWordWrap(true);
    m_caption->setTextFormat(Qt::RichText);
    m_left = new MotionViewport(this);
    m_right = new MotionViewport(this);
    m_left->setObjectName(QStringLiteral("leftViewport"));
    m_right->setObjectName(QStringLiteral("rightViewport"));
    m_left->setTitle(tr("Left"));
    m_right->setTitle(tr("Right"));
    for (MotionViewport *view : {m_left, m_right}) {
        view->setClock(m_clock);
        view->showMessage(tr("Start a session: the models stay hidden behind Left and Right."));
    }
    m_bar = new PlaybackBar(this);
    m_bar->setClock(m_clock);

    buildAnswerRow();
    auto *views = new QHBoxLayout;
    views->setSpacing(4);
    views->addWidget(m_left, 1);
    views->addWidget(m_right, 1);
    auto *trialSide = new QWidget(this);
    auto *trialLayout = new QVBoxLayout(trialSide);
    trialLayout->setContentsMargins(0, 0, 0, 0);
    trialLayout->addWidget(m_caption);
    trialLayout->addLayout(views, 1);
    trialLayout->addWidget(m_bar);
    trialLayout->addWidget(m_answers);

    return trialSide;
}

// Left better, tie, right better and undo, with their keys.
void BlindAbPage::buildAnswerRow()
{
    m_answers = new QWidget(this);
    m_leftBetter = new QPushButton(tr("◀ Left is better   [1]"), m_answers);
    m_tie = new QPushButton(tr("Tie   [2]"), m_answers);
    m_rightBetter = new QPushButton(tr("Right is better ▶   [3]"), m_answers);
    m_undo = new QPushButton(tr("Undo last   [Backspace]"), m_answers);
    m_leftBetter->setToolTip(tr("The left motion fits the prompt better (keys 1 or L)"));
    m_tie->setToolTip(tr("Neither fits better (keys 2 or T)"));
    m_rightBetter->setToolTip(tr("The right motion fits the prompt better (keys 3 or R)"));
    m_undo->setToolTip(tr("Take back the last answer and show that trial again (Backspace)"));
    auto *answerRow = new QHBoxLayout(m_answers);
    answerRow->setContentsMargins(0, 0, 0, 0);
    answerRow->addWidget(m_leftBetter, 2);
    answerRow->addWidget(m_tie, 1);
    answerRow->addWidget(m_rightBetter, 2);
    answerRow->addSpacing(16);
    answerRow->addWidget(m_undo);
    // Application-wide (the 3D views are native windows that take the focus), but only while the
    // answer row is visible: the keys act on this page alone.
    const auto addKeys = [this](QPushButton *button, QList<QKeySequence> keys) {
        auto *action = new QAction(button->toolTip(), m_answers);
        action->setShortcuts(keys);
        action->setShortcutContext(Qt::ApplicationShortcut);
        connect(action, &QAction::triggered, button, [button] {
            if (button->isEnabled())
                button->click();
        });
        m_answers->addAction(action);
    };
    addKeys(m_leftBetter, {QKeySequence(Qt::Key_1), QKeySequence(Qt::Key_L)});
    addKeys(m_tie, {QKeySequence(Qt::Key_2), QKeySequence(Qt::Key_T)});
    addKeys(m_rightBetter, {QKeySequence(Qt::Key_3), QKeySequence(Qt::Key_R)});
    addKeys(m_undo, {QKeySequence(Qt::Key_Backspace)});

    connect(m_leftBetter, &QPushButton::clicked, this, [this] { answer(AbAnswer::Left); });
    connect(m_tie, &QPushButton::clicked, this, [this] { answer(AbAnswer::Tie); });
    connect(m_rightBetter, &QPushButton::clicked, this, [this] { answer(AbAnswer::Right); });
    connect(m_undo, &QPushButton::clicked, this, &BlindAbPage::undoLastAnswer);
}

// The session: set-up, file, status, results.
QWidget *BlindAbPage::buildSessionSide(const QString &defaultPromptFile)
{
    auto *setup = new QGroupBox(tr("Session"), this);
    m_promptFile = new QLineEdit(QDir::toNativeSeparators(defaultPromptFile), setup);
    m_promptFile->setToolTip(tr("A text file, one prompt per line ('#' starts a comment)"));
    auto *browse = new QToolButton(setup);
    browse->setText(tr("..."));
    browse->setToolTip(tr("Choose a prompt file"));
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_promptFile, 1);
    fileRow->addWidget(browse);
    m_temperatures = new QLineEdit(QStringLiteral("0.8, 1.0, 1.2"), setup);
    m_temperatures->setObjectName(QStringLiteral("abTemperatures"));
    m_temperatures->setToolTip(tr("Sampling temperatures, separated by commas (0: greedy)"));
    m_maxPrompts = new QSpinBox(setup);
    m_maxPrompts->setRange(0, 100000);
    m_maxPrompts->setSpecialValueText(tr("all"));
    m_maxPrompts->setToolTip(tr("Use only the first N prompts of the file"));
    m_seed = new QSpinBox(setup);
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setValue(1);
    m_seed->setToolTip(tr("Draws the sampling seeds, the sides and the order of the trials"));
    auto *start = new QPushButton(tr("&Start Session"), setup);
    start->setToolTip(tr("A new session with models A and B as picked above"));
    auto *openButton = new QPushButton(tr("&Open..."), setup);
    openButton->setToolTip(tr("Reopen a saved session (JSON) to resume it or see its results"));
    m_save = new QPushButton(tr("Save &As..."), setup);
    m_save->setToolTip(tr("Choose the JSON file; every later answer is saved there at once"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(start);
    buttons->addWidget(openButton);
    buttons->addWidget(m_save);
    m_saveState = new QLabel(setup);
    m_saveState->setObjectName(QStringLiteral("saveState"));
    m_saveState->setWordWrap(true);
    m_status = new QLabel(setup);
    m_status->setObjectName(QStringLiteral("blindStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *form = new QFormLayout(setup);
    form->addRow(tr("Prompts:"), fileRow);
    form->addRow(tr("Temperatures:"), m_temperatures);
    auto *numbers = new QHBoxLayout;
    numbers->addWidget(m_maxPrompts);
    numbers->addWidget(new QLabel(tr("Seed:"), setup));
    numbers->addWidget(m_seed, 1);
    form->addRow(tr("First N:"), numbers);
    form->addRow(buttons);
    form->addRow(m_saveState);
    form->addRow(m_status);

    connect(start, &QPushButton::clicked, this, [this] {
        startSession(m_promptFile->text().trimmed(), m_temperatures->text(), m_seed->value(),
                     m_maxPrompts->value());
    });
    connect(openButton, &QPushButton::clicked, this, &BlindAbPage::chooseOpen);
    connect(m_save, &QPushButton::clicked, this, &BlindAbPage::chooseSave);
    connect(browse, &QToolButton::clicked, this, &BlindAbPage::choosePromptFile);
    m_showResults = new QCheckBox(tr("Show results during the session"), this);
    m_showResults->setToolTip(tr("Off by default: seeing the tallies can sway the answers"));
    m_resultsHidden = new QLabel(this);
    m_resultsHidden->setWordWrap(true);
    m_resultsHidden->setAlignment(Qt::AlignCenter);
    m_results = new AbResultsView(this);
    m_resultsStack = new QStackedWidget(this);
    m_resultsStack->addWidget(m_resultsHidden);
    m_resultsStack->addWidget(m_results);

    auto *sessionSide = new QWidget(this);
    auto *sessionLayout = new QVBoxLayout(sessionSide);
    sessionLayout->setContentsMargins(0, 0, 0, 0);
    sessionLayout->addWidget(setup);
    sessionLayout->addWidget(m_showResults);
    sessionLayout->addWidget(m_resultsStack, 1);

    connect(m_showResults, &QCheckBox::toggled, this, &BlindAbPage::refreshResults);
    return sessionSide;
}

BlindAbPage::~BlindAbPage() = default;

QString BlindAbPage::keyFor(int index) const
{
    return QStringLiteral("%1%2:%3").arg(kKeyPrefix).arg(m_sessionNumber).arg(index);
}

bool BlindAbPage::startSession(const QString &promptFile, const QString &temperatures, int seed,
                               int maxPrompts)
{
    m_promptFile->setText(QDir::toNativeSeparators(promptFile));
    m_temperatures->setText(temperatures);
    m_seed->setValue(seed);
    m_maxPrompts->setValue(maxPrompts);
    for (ModelPicker *picker : {m_pickerA, m_pickerB})
        if (const QString problem = picker->problem(); !problem.isEmpty()) {
            showStatus(tr("%1: %2").arg(picker->title(), problem), true);
            return false;
        }
    AbSessionOptions options;
    try {
        options.prompts = readPromptFile(QDir::fromNativeSeparators(promptFile));
        options.temperatures = parseTemperatures(temperatures);
    } catch (const InputError &error) {
        showStatus(errorText(error), true);
        return false;
    }
    if (maxPrompts > 0 && options.prompts.size() > maxPrompts)
        options.prompts.resize(maxPrompts);
    options.seed = static_cast<std::uint64_t>(seed);
    m_session = AbSession::create(m_pickerA->model(), m_pickerB->model(), options);
    m_session.setPromptSource(QDir::fromNativeSeparators(promptFile));
    m_savePath.clear();
    afterSessionChange();
    showStatus(tr("%1 trials: %2 prompts × %3 temperatures.")
                   .arg(m_session.size())
                   .arg(options.prompts.size())
                   .arg(options.temperatures.size()),
               false);
    return true;
}

void BlindAbPage::afterSessionChange()
{
    ++m_sessionNumber;
    m_generator->dropQueued(kKeyPrefix);
    m_generated.clear();
    m_current = -1;
    m_shown = false;
    refreshResults();
    if (m_session.isEmpty()) {
        updateCaption();
        updateEnabled();
        return;
    }
    if (m_session.isComplete())
        showComplete();
    else
        showTrial(m_session.nextUnanswered(0));
}

void BlindAbPage::requestTrial(int index)
{
    if (index < 0 || m_generated.contains(index))
        return;
    const QString key = keyFor(index);
    if (m_generator->runningKey() == key || m_generator->isQueued(key))
        return;
    const AbTrial &trial = m_session.trial(index);
    MotionPairRequest request;
    request.key = key;
    request.modelA = m_session.modelA();
    request.modelB = m_session.modelB();
    request.prompt = trial.prompt;
    request.seed = trial.seed;
    request.temperature = trial.temperature;
    m_generator->submit(request);
}

void BlindAbPage::showTrial(int index)
{
    m_current = index;
    m_shown = false;
    updateCaption();
    if (m_generated.contains(index)) {
        displayTrial(index);
    } else {
        m_clock->pause();
        for (MotionViewport *view : {m_left, m_right})
            view->showMessage(tr("Generating this trial..."));
        requestTrial(index);
    }
    // Prefetch: the next trial is generated while this one is watched.
    const int next = m_session.nextUnanswered(index + 1);
    if (next != index)
        requestTrial(next);
    updateEnabled();
}

void BlindAbPage::displayTrial(int index)
{
    const MotionPairResult &result = m_generated[index];
    if (!result.ok()) {
        for (MotionViewport *view : {m_left, m_right})
            view->showMessage(tr("This trial could not be generated."));
        showStatus(tr("Trial %1: %2").arg(index + 1).arg(result.error), true);
        updateEnabled();
        return;
    }
    const AbTrial &trial = m_session.trial(index);
    const GeneratedMotion &leftMotion = trial.aOnLeft ? result.motionA : result.motionB;
    const GeneratedMotion &rightMotion = trial.aOnLeft ? result.motionB : result.motionA;
    m_left->setMotion(leftMotion.clip);
    m_right->setMotion(rightMotion.clip);
    m_clock->setFps(leftMotion.clip.fps > 0 ? leftMotion.clip.fps : 20.0);
    m_clock->seekToStart();
    m_clock->play();
    m_shown = true;
    updateEnabled();
    emit trialShown(index);
}

void BlindAbPage::onResult(const MotionPairResult &result)
{
    const QStringList parts = result.request.key.split(QLatin1Char(':'));
    if (parts.size() != 3 || parts[0] != QLatin1String("trial") ||
        parts[1].toInt() != m_sessionNumber)
        return; // another page's, or an earlier session's
    const int index = parts[2].toInt();
    m_generated.insert(index, result);
    if (index == m_current && !m_shown)
        displayTrial(index);
}

bool BlindAbPage::answer(AbAnswer answer)
{
    if (m_current < 0 || !m_shown || answer == AbAnswer::None)
        return false;
    m_session.answer(m_current, answer);
    autosave();
    refreshResults();
    const int next = m_session.nextUnanswered(m_current + 1);
    if (next < 0)
        showComplete();
    else
        showTrial(next);
    return true;
}

bool BlindAbPage::undoLastAnswer()
{
    const int last = m_session.lastAnswered();
    if (last < 0)
        return false;
    m_session.answer(last, AbAnswer::None);
    autosave();
    refreshResults();
    showTrial(last);
    return true;
}

void BlindAbPage::showComplete()
{
    m_current = -1;
    m_shown = false;
    m_clock->pause();
    for (MotionViewport *view : {m_left, m_right})
        view->showMessage(tr("Session complete: the results are on the right."));
    updateCaption();
    updateEnabled();
    refreshResults();
    emit sessionCompleted();
}

void BlindAbPage::autosave()
{
    if (m_savePath.isEmpty())
        return;
    try {
        m_session.save(m_savePath);
        m_saveState->setText(
            tr("Every answer is saved to %1.").arg(QDir::toNativeSeparators(m_savePath)));
        m_saveState->setStyleSheet(QString());
    } catch (const InputError &error) {
        m_saveState->setText(tr("Not saved: %1").arg(errorText(error)));
        m_saveState->setStyleSheet(QStringLiteral("color: #a00000;"));
    }
}

bool BlindAbPage::saveAs(const QString &path)
{
    if (m_session.isEmpty())
        return false;
    try {
        m_session.save(path);
    } catch (const InputError &error) {
        showStatus(errorText(error), true);
        return false;
    }
    m_savePath = path;
    autosave(); // the status line
    emit sessionFileChosen(path);
    return true;
}

bool BlindAbPage::open(const QString &path)
{
    try {
        m_session = AbSession::load(path);
    } catch (const InputError &error) {
        showStatus(errorText(error), true);
        return false;
    }
    m_savePath = path;
    showSessionSettings();
    afterSessionChange();
    autosave();
    emit sessionFileChosen(path);
    showStatus(tr("Opened %1: %2 of %3 trials answered.")
                   .arg(QFileInfo(path).fileName())
                   .arg(m_session.answeredCount())
                   .arg(m_session.size()),
               false);
    return true;
}

// The form and the model pickers show what the opened session was made with, so that "Start
// Session" repeats it and the pickers name the models behind its results.
void BlindAbPage::showSessionSettings()
{
    m_pickerA->setModel(m_session.modelA());
    m_pickerB->setModel(m_session.modelB());
    QStringList temperatures;
    for (const double temperature : m_session.temperatures())
        temperatures << QString::number(temperature);
    m_temperatures->setText(temperatures.join(QStringLiteral(", ")));
    if (m_session.seed() <= static_cast<std::uint64_t>(m_seed->maximum()))
        m_seed->setValue(static_cast<int>(m_session.seed()));
    // A person's session names its prompt file; a simulated one describes its corpus captions.
    if (QFileInfo(m_session.promptSource()).isFile())
        m_promptFile->setText(QDir::toNativeSeparators(m_session.promptSource()));
}

bool BlindAbPage::resultsVisible() const
{
    return m_resultsStack->currentWidget() == m_results;
}

void BlindAbPage::refreshResults()
{
    if (m_session.isEmpty()) {
        m_results->clear();
        m_resultsHidden->setText(tr("No session yet."));
        m_resultsStack->setCurrentWidget(m_resultsHidden);
        return;
    }
    m_results->setSession(m_session);
    if (m_session.isComplete() || m_showResults->isChecked()) {
        m_resultsStack->setCurrentWidget(m_results);
        return;
    }
    m_resultsHidden->setText(tr("The results stay hidden until the last trial is answered, so "
                                "they cannot sway the answers (%1 of %2 answered).")
                                 .arg(m_session.answeredCount())
                                 .arg(m_session.size()));
    m_resultsStack->setCurrentWidget(m_resultsHidden);
}

void BlindAbPage::updateCaption()
{
    if (m_session.isEmpty()) {
        m_caption->setText(tr("<b>Blind A/B evaluation.</b> Each trial shows model A's and "
                              "model B's motion for one prompt and seed, in random order. "
                              "Answer which fits the prompt better."));
        return;
    }
    if (m_current < 0) {
        QString text = tr("<b>Session complete</b>: %1 trials. A = %2, B = %3.")
                           .arg(m_session.size())
                           .arg(modelDisplayName(m_session.modelA()).toHtmlEscaped(),
                                modelDisplayName(m_session.modelB()).toHtmlEscaped());
        // A program's answers are not a person's: say who rated.
        if (!m_session.rater().isEmpty())
            text += tr("<br>Rated by %1, not by a person.").arg(m_session.rater().toHtmlEscaped());
        m_caption->setText(text);
        return;
    }
    const AbTrial &trial = m_session.trial(m_current);
    m_caption->setText(tr("Trial %1 of %2 (%3 answered) · temperature %4<br><b>“%5”</b>")
                           .arg(m_current + 1)
                           .arg(m_session.size())
                           .arg(m_session.answeredCount())
                           .arg(temperatureText(trial.temperature), trial.prompt.toHtmlEscaped()));
}

void BlindAbPage::updateEnabled()
{
    const bool canAnswer = m_current >= 0 && m_shown;
    m_leftBetter->setEnabled(canAnswer);
    m_tie->setEnabled(canAnswer);
    m_rightBetter->setEnabled(canAnswer);
    m_undo->setEnabled(m_session.lastAnswered() >= 0);
    m_save->setEnabled(!m_session.isEmpty());
    if (m_savePath.isEmpty()) {
        m_saveState->setText(m_session.isEmpty()
                                 ? QString()
                                 : tr("Not saved yet: Save As... chooses the file, then every "
                                      "answer is saved at once."));
        m_saveState->setStyleSheet(QString());
    }
}

void BlindAbPage::showStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #a00000;") : QString());
}

QString BlindAbPage::statusText() const
{
    return m_status->text();
}

void BlindAbPage::chooseSave()
{
    QString path = QFileDialog::getSaveFileName(this, tr("Save blind A/B session"),
                                                QStringLiteral("ab-session.json"),
                                                tr("A/B sessions (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".json");
    saveAs(path);
}

void BlindAbPage::chooseOpen()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open blind A/B session"), QString(),
                                                      tr("A/B sessions (*.json)"));
    if (!path.isEmpty())
        open(path);
}

void BlindAbPage::choosePromptFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Prompt file"), m_promptFile->text(),
                                                      tr("Text files (*.txt);;All files (*)"));
    if (!path.isEmpty())
        m_promptFile->setText(QDir::toNativeSeparators(path));
}

} // namespace mp
