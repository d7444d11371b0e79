#include "ui/label/label_panel.h"

#include "app/core/error_text.h"
#include "app/core/settings.h"
#include "app/study/label_session.h"
#include "app/study/label_write_queue.h"
#include "app/study/study_store.h"
#include "ui/label/label_command.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_bar.h"
#include "viewer/playback_clock.h"

#include <QAction>
#include <QCheckBox>
#include <QCommandLinkButton>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

namespace mp {

namespace {

// What keys 1-9 mean: the left side's degrees from strongest, unsure, then the mirror image.
struct ChoiceKey {
    ShownChoice shown;
    std::optional<PreferenceDegree> degree;
    const char *label;
};
const ChoiceKey kChoiceKeys[9] = {
    {ShownChoice::Left, PreferenceDegree::MuchBetter, "Much better"},
    {ShownChoice::Left, PreferenceDegree::Better, "Better"},
    {ShownChoice::Left, PreferenceDegree::SlightlyBetter, "Slightly better"},
    {ShownChoice::Left, PreferenceDegree::Unsure, "Negligibly better"},
    {ShownChoice::Unsure, std::nullopt, "Unsure"},
    {ShownChoice::Right, PreferenceDegree::Unsure, "Negligibly better"},
    {ShownChoice::Right, PreferenceDegree::SlightlyBetter, "Slightly better"},
    {ShownChoice::Right, PreferenceDegree::Better, "Better"},
    {ShownChoice::Right, PreferenceDegree::MuchBetter, "Much better"},
};

struct SkipKey {
    SkipReason reason;
    const char *label;
};
const SkipKey kSkipKeys[5] = {
    {SkipReason::BrokenMotion, "Broken motion"},
    {SkipReason::PromptUnclear, "Prompt unclear"},
    {SkipReason::BothBad, "Both bad"},
    {SkipReason::Identical, "Identical"},
    {SkipReason::Other, "Other"},
};

// Reason tags of a skip, with their keys (letters: the digits choose, S skips, Esc cancels).
struct TagKey {
    ReasonTag tag;
    Qt::Key key;
};
const TagKey kTagKeys[kNumReasonTags] = {
    {ReasonTag::WrongAction, Qt::Key_W},
    {ReasonTag::WrongCountOrDirection, Qt::Key_C},
    {ReasonTag::Jitter, Qt::Key_J},
    {ReasonTag::FootSkating, Qt::Key_F},
    {ReasonTag::PhysicallyImpossible, Qt::Key_P},
    {ReasonTag::TooShort, Qt::Key_T},
};

// The prompt list compiled into the application (resources/prompts/default.txt).
const QString kBuiltInPrompts = QStringLiteral(":/prompts/default.txt");

QPushButton *keyButton(const QString &key, const QString &text, QWidget *parent)
{
    auto *button = new QPushButton(QStringLiteral("%1  %2").arg(key, text), parent);
    button->setFocusPolicy(Qt::NoFocus); // keys go to the shortcuts, never to a focused button
    return button;
}

} // namespace

LabelPanel::LabelPanel(Settings &settings, QUndoStack *undoStack, QWidget *parent)
    : QWidget(parent), m_settings(settings), m_undoStack(undoStack),
      m_session(new LabelSession(this)), m_clock(new PlaybackClock(this))
{
    setObjectName(QStringLiteral("labelPanel"));
    setFocusPolicy(Qt::StrongFocus);
    m_pages = new QStackedWidget(this);
    m_pages->addWidget(buildWelcomePage());
    m_pages->addWidget(buildLabelPage());
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_pages);
    buildKeys();

    m_session->setLabeler(m_settings.labelerName());
    m_session->setModelDir(m_settings.modelDir(), m_settings.device());
    applySampling();
    connect(m_session, &LabelSession::currentChanged, this, &LabelPanel::showCurrent);
    connect(m_session, &LabelSession::progressChanged, this, &LabelPanel::updateProgress);
    connect(m_session, &LabelSession::modelStateChanged, this, &LabelPanel::updateModelStatus);
    connect(m_session, &LabelSession::errorOccurred, this, &LabelPanel::showError);
    connect(m_session, &LabelSession::labelStored, this,
            [this](qint64 labelId, qint64, const QString &reveal) {
                m_reveal->setText(labelId > 0 ? tr("Stored. %1").arg(reveal)
                                              : tr("Queued: the study is locked. %1").arg(reveal));
            });
    setStore(nullptr);
    updateModelStatus();
}

LabelPanel::~LabelPanel() = default;

// Shown while no study is open, on a first run above all: one button starts labeling in a new
// study of the user's data directory; an existing study opens from here or from the recent list.
QWidget *LabelPanel::buildWelcomePage()
{
    auto *page = new QWidget(this);
    page->setObjectName(QStringLiteral("welcomePage"));
    auto *text = new QLabel(
        tr("<h2>Welcome to MotionPref Studio</h2><p>Type a prompt, watch the two motions the "
           "model makes for it, and press a key for the one that fits the prompt better. The "
           "labels are kept in a study (one file with the prompts, the motions and every label) "
           "and train the model in the Train panel.</p>"),
        page);
    text->setObjectName(QStringLiteral("noStudyMessage"));
    text->setAlignment(Qt::AlignCenter);
    text->setWordWrap(true);
    auto *start = new QCommandLinkButton(tr("&Start labeling"), page);
    start->setObjectName(QStringLiteral("startLabelingButton"));
    start->setDefault(true);
    QString folder = QDir::toNativeSeparators(m_settings.newStudyDir());
    const QString home = QDir::toNativeSeparators(QDir::homePath());
    if (folder.startsWith(home + QDir::separator()))
        folder = QStringLiteral("~") + folder.mid(home.size());
    start->setDescription(
        tr("A new study named by today's date in %1, opened at once").arg(folder));
    start->setToolTip(m_settings.newStudyDir());
    m_welcomeModel = new QLabel(page);
    m_welcomeModel->setObjectName(QStringLiteral("welcomeModel"));
    m_welcomeModel->setAlignment(Qt::AlignCenter);
    auto *openStudy = new QPushButton(tr("&Open a Study..."), page);
    openStudy->setObjectName(QStringLiteral("openStudyButton"));
    auto *newStudy = new QPushButton(tr("&New Study..."), page);
    newStudy->setObjectName(QStringLiteral("newStudyButton"));
    newStudy->setToolTip(tr("Create a study file where you choose"));
    connect(start, &QPushButton::clicked, this, &LabelPanel::startLabelingRequested);
    connect(newStudy, &QPushButton::clicked, this, &LabelPanel::newStudyRequested);
    connect(openStudy, &QPushButton::clicked, this, &LabelPanel::openStudyRequested);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(openStudy);
    buttons->addWidget(newStudy);
    buttons->addStretch(1);

    m_recentBox = new QWidget(page);
    m_recentBox->setObjectName(QStringLiteral("welcomeRecent"));
    m_recentList = new QVBoxLayout(m_recentBox);
    m_recentList->setContentsMargins(0, 0, 0, 0);

    auto *column = new QVBoxLayout;
    column->addWidget(text);
    column->addSpacing(12);
    column->addWidget(start);
    column->addWidget(m_welcomeModel);
    column->addSpacing(12);
    column->addLayout(buttons);
    column->addSpacing(12);
    column->addWidget(m_recentBox);
    auto *centered = new QHBoxLayout;
    centered->addStretch(1);
    centered->addLayout(column, 3);
    centered->addStretch(1);
    auto *layout = new QVBoxLayout(page);
    layout->addStretch(1);
    layout->addLayout(centered);
    layout->addStretch(2);
    return page;
}

// The recent studies that still exist, as buttons (the model line follows updateModelStatus).
void LabelPanel::updateWelcome()
{
    while (QLayoutItem *item = m_recentList->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    int shown = 0;
    for (const QString &location : m_settings.recentStudies()) {
        const bool shared = StudyStore::isConnectionString(location);
        if (!shared && !QFileInfo::exists(location))
            continue;
        if (shown++ == 0)
            m_recentList->addWidget(new QLabel(tr("<b>Recent studies</b>"), m_recentBox));
        auto *open =
            new QPushButton(shared ? location : QFileInfo(location).fileName(), m_recentBox);
        open->setFlat(true);
        open->setToolTip(location);
        open->setStyleSheet(QStringLiteral("text-align: left;"));
        connect(open, &QPushButton::clicked, this,
                [this, location] { emit recentStudyRequested(location); });
        m_recentList->addWidget(open);
    }
    m_recentBox->setVisible(shown > 0);
}

QWidget *LabelPanel::buildLabelPage()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    layout->addLayout(buildPromptRow(page));
    buildPromptLabels(page, layout);
    layout->addLayout(buildViews(page), 1);
    layout->addWidget(m_bar);
    layout->addWidget(buildChoiceRow(page));
    layout->addWidget(buildSkipRow(page));
    layout->addLayout(buildStatusRow(page));
    layout->addWidget(m_error);
    layout->addLayout(buildSamplingRow(page));
    m_labeler->setText(m_settings.labelerName());
    return page;
}

// The prompt box with its Generate, prompt-list and study buttons, and the labeler's name.
QLayout *LabelPanel::buildPromptRow(QWidget *page)
{
    m_prompt = new QLineEdit(page);
    m_prompt->setObjectName(QStringLiteral("promptEdit"));
    m_prompt->setPlaceholderText(tr("Type a prompt and press Enter, e.g. a person walks forward "
                                    "and waves"));
    m_prompt->setClearButtonEnabled(true);
    auto *generate = new QPushButton(tr("&Generate"), page);
    generate->setToolTip(tr("Generate pairs of motions for the typed prompt (Enter)"));
    auto *list = new QToolButton(page);
    list->setObjectName(QStringLiteral("promptListButton"));
    list->setText(tr("Prompt &List..."));
    list->setToolTip(tr("Label one pair per prompt of a text file (one prompt per line)"));
    list->setPopupMode(QToolButton::MenuButtonPopup);
    auto *listMenu = new QMenu(list);
    QAction *builtIn = listMenu->addAction(tr("Built-in prompts"), this,
                                           [this] { openPromptList(kBuiltInPrompts); });
    builtIn->setEnabled(QFileInfo::exists(kBuiltInPrompts));
    listMenu->addAction(tr("Open a file..."), this, &LabelPanel::choosePromptList);
    list->setMenu(listMenu);
    auto *study = new QPushButton(tr("Label the &Study's Pairs"), page);
    study->setObjectName(QStringLiteral("studyQueueButton"));
    study->setToolTip(tr("Label the pairs already in the study (imported or generated earlier) "
                         "that nobody labeled yet"));
    m_labeler = new QLineEdit(page);
    m_labeler->setObjectName(QStringLiteral("labelerEdit"));
    m_labeler->setMaximumWidth(160);
    m_labeler->setToolTip(tr("Your name, stored with each label"));
    auto *top = new QHBoxLayout;
    top->addWidget(m_prompt, 1);
    top->addWidget(generate);
    top->addWidget(list);
    top->addWidget(study);
    top->addSpacing(12);
    top->addWidget(new QLabel(tr("Labeler:"), page));
    top->addWidget(m_labeler);

    connect(m_prompt, &QLineEdit::returnPressed, this,
            [this] { generateForPrompt(m_prompt->text()); });
    connect(generate, &QPushButton::clicked, this, [this] { generateForPrompt(m_prompt->text()); });
    connect(list, &QToolButton::clicked, this, &LabelPanel::choosePromptList);
    connect(study, &QPushButton::clicked, this, &LabelPanel::labelStudyPairs);
    connect(m_labeler, &QLineEdit::editingFinished, this, [this] {
        const QString name = m_labeler->text().trimmed();
        if (name.isEmpty()) {
            m_labeler->setText(m_settings.labelerName());
            return;
        }
        m_settings.setLabelerName(name);
        m_session->setLabeler(name);
        if (m_labeler->hasFocus())
            setFocus();
    });
    return top;
}

// The source of the pair on screen and its prompt, large.
void LabelPanel::buildPromptLabels(QWidget *page, QVBoxLayout *layout)
{
    m_source = new QLabel(page);
    m_source->setObjectName(QStringLiteral("sourceLabel"));
    m_source->setStyleSheet(QStringLiteral("color: palette(mid);"));
    m_promptText = new QLabel(page);
    m_promptText->setObjectName(QStringLiteral("promptText"));
    m_promptText->setWordWrap(true);
    m_promptText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont big = m_promptText->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_promptText->setFont(big);

    layout->addWidget(m_source);
    layout->addWidget(m_promptText);
}

// The two viewports on one clock, and the playback bar under them.
QLayout *LabelPanel::buildViews(QWidget *page)
{
    m_left = new MotionViewport(page);
    m_left->setObjectName(QStringLiteral("leftViewport"));
    m_left->setTitle(tr("Left"));
    // Both motions watched to the end: the clock runs to the longer one's last frame.
    // A looping clock that skipped the last frame under load still wrapped around.
    connect(m_clock, &PlaybackClock::frameChanged, this, [this](int frame) {
        const bool wrapped = m_clock->isPlaying() && m_clock->looping() && frame < m_lastFrame;
        if ((m_clock->frameCount() > 0 && frame >= m_clock->frameCount() - 1) || wrapped)
            m_watchedBoth = true;
        m_lastFrame = frame;
    });
    m_left->setClock(m_clock);
    m_right = new MotionViewport(page);
    m_right->setObjectName(QStringLiteral("rightViewport"));
    m_right->setTitle(tr("Right"));
    m_right->setClock(m_clock);
    // Follow the bodies: both are seen at the same size whatever distance each one travels
    // (framing each whole motion made a long walk look tiny next to a short one).
    m_left->setFollowCamera(true);
    m_right->setFollowCamera(true);
    auto *views = new QHBoxLayout;
    views->addWidget(m_left, 1);
    views->addWidget(m_right, 1);
    m_bar = new PlaybackBar(page);
    m_bar->setClock(m_clock);

    return views;
}

QWidget *LabelPanel::buildChoiceRow(QWidget *page)
{
    // Choice buttons, laid out as the keys are: left degrees, unsure, right degrees, skip.
    m_choiceRow = new QWidget(page);
    auto *choices = new QHBoxLayout(m_choiceRow);
    choices->setContentsMargins(0, 0, 0, 0);
    auto *leftBox = new QGroupBox(tr("Left is..."), m_choiceRow);
    auto *rightBox = new QGroupBox(tr("Right is..."), m_choiceRow);
    auto *leftRow = new QHBoxLayout(leftBox);
    auto *rightRow = new QHBoxLayout(rightBox);
    for (int key = 1; key <= 9; ++key) {
        const ChoiceKey &choice = kChoiceKeys[key - 1];
        QWidget *parent = key < 5 ? leftBox : key > 5 ? rightBox : m_choiceRow;
        QPushButton *button = keyButton(QString::number(key), tr(choice.label), parent);
        button->setObjectName(QStringLiteral("choice%1").arg(key));
        connect(button, &QPushButton::clicked, this, [this, key] { choose(key); });
        m_choiceButtons << button;
        if (key < 5)
            leftRow->addWidget(button);
        else if (key > 5)
            rightRow->addWidget(button);
    }
    QPushButton *skip = keyButton(QStringLiteral("0/S"), tr("Skip..."), m_choiceRow);
    skip->setObjectName(QStringLiteral("skipButton"));
    skip->setToolTip(tr("Skip this pair with a reason"));
    connect(skip, &QPushButton::clicked, this, &LabelPanel::startSkip);
    m_choiceButtons << skip;
    choices->addWidget(leftBox, 4);
    choices->addWidget(m_choiceButtons[4]);
    choices->addWidget(rightBox, 4);
    choices->addWidget(skip);

    return m_choiceRow;
}

// The skip reasons, shown instead of the choices after 0/S.
QWidget *LabelPanel::buildSkipRow(QWidget *page)
{
    m_skipRow = new QWidget(page);
    m_skipRow->setObjectName(QStringLiteral("skipReasons"));
    // Two rows: the reasons (a digit stores the skip) and, first, any tags of what is wrong.
    auto *skipRows = new QVBoxLayout(m_skipRow);
    skipRows->setContentsMargins(0, 0, 0, 0);
    auto *reasonRow = new QWidget(m_skipRow);
    auto *tagRow = new QWidget(m_skipRow);
    tagRow->setObjectName(QStringLiteral("skipTags"));
    skipRows->addWidget(tagRow);
    skipRows->addWidget(reasonRow);
    auto *tagLayout = new QHBoxLayout(tagRow);
    tagLayout->setContentsMargins(0, 0, 0, 0);
    tagLayout->addWidget(new QLabel(tr("<b>What is wrong:</b>"), tagRow));
    for (const TagKey &tag : kTagKeys) {
        const QString key = QKeySequence(tag.key).toString();
        QPushButton *button = keyButton(key, reasonTagTitle(tag.tag), tagRow);
        button->setObjectName(QStringLiteral("tag_") + reasonTagName(tag.tag));
        button->setCheckable(true);
        button->setToolTip(
            tr("Tag the skip: %1 (key %2; again to untag)").arg(reasonTagTitle(tag.tag), key));
        tagLayout->addWidget(button);
        m_tagButtons << button;
    }
    tagLayout->addStretch(1);
    auto *skipLayout = new QHBoxLayout(reasonRow);
    skipLayout->setContentsMargins(0, 0, 0, 0);
    skipLayout->addWidget(new QLabel(tr("<b>Skip because:</b>"), reasonRow));
    for (int key = 1; key <= 5; ++key) {
        const SkipKey &reason = kSkipKeys[key - 1];
        QPushButton *button = keyButton(QString::number(key), tr(reason.label), reasonRow);
        connect(button, &QPushButton::clicked, this,
                [this, reason = reason.reason] { skipWith(reason); });
        skipLayout->addWidget(button);
    }
    QPushButton *cancel = keyButton(tr("Esc"), tr("Cancel"), reasonRow);
    connect(cancel, &QPushButton::clicked, this, &LabelPanel::cancelSkip);
    skipLayout->addWidget(cancel);
    skipLayout->addStretch(1);
    m_skipRow->hide();

    return m_skipRow;
}

// Progress, the reveal of models and seeds after a vote, and the error line.
QLayout *LabelPanel::buildStatusRow(QWidget *page)
{
    m_progress = new QLabel(page);
    m_progress->setObjectName(QStringLiteral("progressLabel"));
    m_reveal = new QLabel(page);
    m_reveal->setObjectName(QStringLiteral("revealLabel"));
    m_reveal->setWordWrap(true);
    m_reveal->setToolTip(tr("Which model and seed made each side, told once the label is stored"));
    m_error = new QLabel(page);
    m_error->setObjectName(QStringLiteral("errorLabel"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->hide();

    auto *status = new QHBoxLayout;
    status->addWidget(m_progress);
    status->addSpacing(16);
    status->addWidget(m_reveal, 1);

    return status;
}

// Sampling settings of the next pairs and the model they come from.
QLayout *LabelPanel::buildSamplingRow(QWidget *page)
{
    m_temperature = new QDoubleSpinBox(page);
    m_temperature->setRange(0.0, 5.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setValue(1.0);
    m_temperature->setSpecialValueText(tr("greedy"));
    m_temperature->setToolTip(tr("Sampling temperature of the next pairs (0 = greedy)"));
    m_topK = new QSpinBox(page);
    m_topK->setRange(0, 1024);
    m_topK->setValue(50);
    m_topK->setSpecialValueText(tr("off"));
    m_topK->setToolTip(tr("Keep only the k most likely motion tokens (0 = off)"));
    m_topP = new QDoubleSpinBox(page);
    m_topP->setRange(0.05, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(1.0);
    m_topP->setToolTip(
        tr("Nucleus sampling: keep the most likely tokens up to this mass (1 = off)"));
    // Offered because the evaluation's metrics with int8 stayed inside float32's 95% intervals
    // on the embedded default (tests/bench/RESULTS.md, "Weight-only int8").
    m_int8 = new QCheckBox(tr("int8"), page);
    m_int8->setObjectName(QStringLiteral("int8Sampling"));
    m_int8->setToolTip(tr("Sample the next pairs with int8 weights in the decoder (faster on a "
                          "CPU for large models; the motions differ slightly from float32's "
                          "for the same seed)"));
    m_model = new QLabel(page);
    m_model->setObjectName(QStringLiteral("modelStatus"));
    m_model->setWordWrap(true);
    auto *chooseModel = new QPushButton(tr("&Model..."), page);
    chooseModel->setToolTip(tr("Generate with another model bundle directory"));
    auto *settingsRow = new QHBoxLayout;
    settingsRow->addWidget(new QLabel(tr("Temperature:"), page));
    settingsRow->addWidget(m_temperature);
    settingsRow->addWidget(new QLabel(tr("Top-k:"), page));
    settingsRow->addWidget(m_topK);
    settingsRow->addWidget(new QLabel(tr("Top-p:"), page));
    settingsRow->addWidget(m_topP);
    settingsRow->addWidget(m_int8);
    settingsRow->addSpacing(16);
    settingsRow->addWidget(m_model, 1);
    settingsRow->addWidget(chooseModel);

    connect(chooseModel, &QPushButton::clicked, this, &LabelPanel::chooseModelDir);
    // Applied when a value is committed (Enter, arrows, leaving the box), not per keystroke:
    // each change regenerates the pair prepared ahead. Enter hands the keys back to labeling.
    m_temperature->setKeyboardTracking(false);
    m_topK->setKeyboardTracking(false);
    m_topP->setKeyboardTracking(false);
    connect(m_temperature, &QDoubleSpinBox::valueChanged, this, &LabelPanel::applySampling);
    connect(m_topK, &QSpinBox::valueChanged, this, &LabelPanel::applySampling);
    connect(m_topP, &QDoubleSpinBox::valueChanged, this, &LabelPanel::applySampling);
    connect(m_int8, &QCheckBox::toggled, this, &LabelPanel::applySampling);
    for (QAbstractSpinBox *box :
         {static_cast<QAbstractSpinBox *>(m_temperature), static_cast<QAbstractSpinBox *>(m_topK),
          static_cast<QAbstractSpinBox *>(m_topP)})
        connect(box, &QAbstractSpinBox::editingFinished, this, [this, box] {
            if (box->hasFocus())
                setFocus();
        });
    return settingsRow;
}

void LabelPanel::buildKeys()
{
    // Application-wide: the 3D views are native windows that take the focus. Actions on a
    // hidden panel (another tab) do not fire.
    const auto addKey = [this](const QString &text, QList<QKeySequence> keys, auto slot) {
        auto *action = new QAction(text, this);
        action->setShortcuts(keys);
        action->setShortcutContext(Qt::ApplicationShortcut);
        action->setStatusTip(text);
        connect(action, &QAction::triggered, this, slot);
        addAction(action);
        m_keyActions << action;
        return action;
    };
    for (int key = 1; key <= 9; ++key) {
        const ChoiceKey &choice = kChoiceKeys[key - 1];
        const QString side = choice.shown == ShownChoice::Left    ? tr("Left: ")
                             : choice.shown == ShownChoice::Right ? tr("Right: ")
                                                                  : QString();
        const auto digit = static_cast<Qt::Key>(Qt::Key_0 + key);
        addKey(side + tr(choice.label),
               {QKeySequence(digit), QKeySequence(Qt::KeypadModifier | digit)},
               [this, key] { choose(key); });
    }
    addKey(tr("Skip with a reason"),
           {QKeySequence(Qt::Key_0), QKeySequence(Qt::KeypadModifier | Qt::Key_0),
            QKeySequence(Qt::Key_S)},
           [this] { startSkip(); });
    QAction *escape =
        addKey(tr("Cancel the skip"), {QKeySequence(Qt::Key_Escape)}, [this] { cancelSkip(); });
    escape->setEnabled(false);
    // Tag keys work while the skip row shows (after 0/S); not in m_keyActions, whose last is Esc.
    for (int t = 0; t < kNumReasonTags; ++t) {
        auto *action =
            new QAction(tr("Tag the skip: %1").arg(reasonTagTitle(kTagKeys[t].tag)), this);
        action->setShortcut(QKeySequence(kTagKeys[t].key));
        action->setShortcutContext(Qt::ApplicationShortcut);
        action->setStatusTip(action->text());
        action->setEnabled(false);
        connect(action, &QAction::triggered, this, [this, t] { m_tagButtons[t]->toggle(); });
        addAction(action);
        m_tagActions << action;
    }
}

void LabelPanel::setStore(StudyStore *store)
{
    m_store = store;
    cancelSkip();
    m_session->setStore(store);
    m_pages->setCurrentIndex(store && store->isOpen() ? 1 : 0);
    if (m_pages->currentIndex() == 0)
        updateWelcome();
    m_reveal->clear();
    m_error->hide();
    updateEnabled();
}

void LabelPanel::focusPrompt()
{
    m_prompt->setFocus(Qt::OtherFocusReason);
}

void LabelPanel::generateForPrompt(const QString &prompt)
{
    if (prompt.trimmed().isEmpty()) {
        showError(tr("Type a prompt first."));
        return;
    }
    m_error->hide();
    m_session->startTyped(prompt);
    setFocus(); // the digit keys label now, instead of typing into the prompt box
}

bool LabelPanel::openPromptList(const QString &path)
{
    try {
        const QStringList prompts = LabelSession::readPromptList(path);
        m_error->hide();
        m_session->startList(prompts, path == kBuiltInPrompts ? tr("built-in prompts")
                                                              : QFileInfo(path).fileName());
        setFocus();
        return true;
    } catch (const std::exception &error) {
        showError(errorText(error));
        return false;
    }
}

void LabelPanel::labelStudyPairs()
{
    m_error->hide();
    m_session->startStudy();
    setFocus();
}

void LabelPanel::setModelDir(const QString &dir)
{
    m_settings.setModelDir(dir);
    m_session->setModelDir(dir, m_settings.device(), true);
}

void LabelPanel::chooseModelDir()
{
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Model bundle directory (config.json, model.safetensors, ...)"),
        m_session->modelDir());
    if (!dir.isEmpty())
        setModelDir(dir);
}

void LabelPanel::choosePromptList()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a prompt list"), QString(),
                                                      tr("Prompt lists (*.txt);;All files (*)"));
    if (!path.isEmpty())
        openPromptList(path);
}

void LabelPanel::applySampling()
{
    m_session->setSampling({.temperature = m_temperature->value(),
                            .topK = m_topK->value(),
                            .topP = m_topP->value(),
                            .int8Weights = m_int8->isChecked()});
}

void LabelPanel::choose(int key)
{
    if (m_skipMode) {
        if (key >= 1 && key <= 5)
            skipWith(kSkipKeys[key - 1].reason);
        return;
    }
    const ChoiceKey &choice = kChoiceKeys[key - 1];
    storeLabel(choice.shown, choice.degree, SkipReason::None);
}

void LabelPanel::startSkip()
{
    if (!m_session->current())
        return;
    m_skipMode = true;
    m_skipRow->show();
    m_choiceRow->hide();
    m_keyActions.last()->setEnabled(true); // Esc
    for (QAction *action : m_tagActions)
        action->setEnabled(true);
}

void LabelPanel::cancelSkip()
{
    m_skipMode = false;
    for (QPushButton *button : m_tagButtons)
        button->setChecked(false);
    if (m_skipRow) {
        m_skipRow->hide();
        m_choiceRow->show();
    }
    if (!m_keyActions.isEmpty())
        m_keyActions.last()->setEnabled(false);
    for (QAction *action : m_tagActions)
        action->setEnabled(false);
}

std::vector<ReasonTag> LabelPanel::checkedTags() const
{
    std::vector<ReasonTag> tags;
    for (int t = 0; t < m_tagButtons.size(); ++t) {
        if (m_tagButtons[t]->isChecked())
            tags.push_back(kTagKeys[t].tag);
    }
    return tags;
}

void LabelPanel::skipWith(SkipReason reason)
{
    const std::vector<ReasonTag> tags = checkedTags(); // cancelSkip clears them
    cancelSkip();
    storeLabel(ShownChoice::Skip, std::nullopt, reason, tags);
}

void LabelPanel::storeLabel(ShownChoice shown, std::optional<PreferenceDegree> degree,
                            SkipReason reason, const std::vector<ReasonTag> &tags)
{
    if (!m_session->current() || !m_store)
        return;
    m_session->setLabelDetails(tags, m_watchedBoth);
    m_error->hide();
    const auto onError = [this](const QString &message) { showError(message); };
    if (m_undoStack) {
        m_undoStack->push(new LabelCommand(m_store, m_session, shown, degree, reason, onError));
        return;
    }
    try {
        m_session->labelCurrent(shown, degree, reason);
    } catch (const std::exception &error) {
        onError(tr("The label was not stored: %1").arg(errorText(error)));
    }
}

void LabelPanel::showCurrent()
{
    cancelSkip();
    const LabelSession::Item *item = m_session->current();
    if (item) {
        m_promptText->setText(item->prompt);
        m_left->setMotion(item->leftClip());
        m_right->setMotion(item->rightClip());
        for (MotionViewport *view : {m_left, m_right})
            if (!view->hasMotion())
                view->showMessage(tr("This sample has no motion to show: skip the pair (0, "
                                     "then 1 broken motion)."));
        m_clock->seek(0);
        m_watchedBoth = false;
        m_lastFrame = 0;
        m_clock->play();
    } else {
        m_promptText->setText(QString());
        m_clock->pause();
        m_left->clearMotion();
        m_right->clearMotion();
        m_left->showMessage(m_session->waitingMessage());
        m_right->showMessage(m_session->waitingMessage());
    }
    updateEnabled();
    updateProgress();
}

void LabelPanel::updateProgress()
{
    QString source;
    switch (m_session->mode()) {
    case LabelSession::Mode::Idle:
        break;
    case LabelSession::Mode::Typed:
        source = tr("Typed prompt");
        break;
    case LabelSession::Mode::List:
        source = tr("Prompt list: %1").arg(m_session->sourceName());
        break;
    case LabelSession::Mode::Study:
        source = tr("The study's unlabeled pairs");
        break;
    }
    if (const LabelSession::Item *item = m_session->current())
        source += (source.isEmpty() ? QString() : QStringLiteral("  \u00b7  ")) +
                  tr("pair %1").arg(item->pairId);
    m_source->setText(source);

    const LabelSession::Progress progress = m_session->progress();
    QStringList parts;
    if (m_session->mode() == LabelSession::Mode::List)
        parts << tr("Prompt %1 of %2").arg(progress.position).arg(progress.total);
    else if (m_session->mode() == LabelSession::Mode::Study)
        parts << tr("%1 of %2 pairs labeled").arg(progress.position).arg(progress.total);
    if (m_session->mode() != LabelSession::Mode::Idle)
        parts << tr("Round %1: %n label(s)", nullptr, progress.labelsThisRound).arg(progress.round);
    parts << tr("%n labeled this session", nullptr, progress.labeledThisSession);
    const QString unsaved = m_session->writeQueue()->statusText(); // a locked study
    if (!unsaved.isEmpty())
        parts << unsaved;
    if (progress.labeledThisSession > 0)
        parts << tr("%1 s per label").arg(progress.meanMsPerLabel / 1000.0, 0, 'f', 1);
    m_progress->setText(parts.join(QStringLiteral("  \u00b7  ")));
}

void LabelPanel::updateModelStatus()
{
    const QString name = modelDisplayName(m_session->modelDir());
    m_welcomeModel->setText(tr("Model: %1").arg(name));
    switch (m_session->modelState()) {
    case LabelSession::ModelState::NotLoaded:
        m_model->setText(tr("Model: %1 (loads when needed)").arg(name));
        m_model->setStyleSheet(QString());
        break;
    case LabelSession::ModelState::Loading:
        m_model->setText(tr("Model: %1, loading...").arg(name));
        m_model->setStyleSheet(QString());
        break;
    case LabelSession::ModelState::Ready:
        m_model->setText(tr("Model: %1").arg(name));
        m_model->setStyleSheet(QString());
        break;
    case LabelSession::ModelState::Failed:
        m_model->setText(m_session->modelMessage());
        m_model->setStyleSheet(QStringLiteral("color: #b00020;"));
        break;
    }
    m_model->setToolTip(m_session->modelDir());
}

void LabelPanel::updateEnabled()
{
    const bool labeling = m_store && m_store->isOpen() && m_session->current();
    for (QPushButton *button : m_choiceButtons)
        button->setEnabled(labeling);
    for (int i = 0; i < m_keyActions.size() - 1; ++i) // Esc follows the skip row
        m_keyActions[i]->setEnabled(labeling);
}

void LabelPanel::showError(const QString &message)
{
    m_error->setText(message);
    m_error->setVisible(!message.isEmpty());
}

QString LabelPanel::statusText() const
{
    QStringList lines{m_source->text(), m_progress->text(), m_reveal->text()};
    if (!m_error->isHidden())
        lines << m_error->text();
    return lines.join(QLatin1Char('\n'));
}

} // namespace mp
