#include "ui/compare/side_by_side_page.h"

#include "app/compare/compare_generator.h"
#include "ui/compare/model_picker.h"
#include "viewer/motion_viewport.h"
#include "viewer/playback_bar.h"
#include "viewer/playback_clock.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace mp {

namespace {
const QLatin1String kKey("side");

QString motionSummary(const GeneratedMotion &motion)
{
    if (motion.degenerate)
        return QObject::tr("no motion codes (mean pose)");
    return QObject::tr("%1 codes, %2 frames").arg(motion.numCodes).arg(motion.clip.numFrames);
}
} // namespace

SideBySidePage::SideBySidePage(CompareGenerator *generator, ModelPicker *pickerA,
                               ModelPicker *pickerB, QWidget *parent)
    : QWidget(parent), m_generator(generator), m_pickerA(pickerA), m_pickerB(pickerB),
      m_clock(new PlaybackClock(this))
{
    setObjectName(QStringLiteral("sideBySidePage"));
    m_prompt = new QLineEdit(QStringLiteral("a person walks forward slowly"), this);
    m_prompt->setPlaceholderText(tr("Prompt, e.g. a person jumps twice"));
    m_prompt->setClearButtonEnabled(true);
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setValue(7);
    m_seed->setToolTip(tr("Sampling seed, the same for both models"));
    auto *dice = new QToolButton(this);
    dice->setText(tr("New seed"));
    dice->setToolTip(tr("Draw a random seed and generate"));
    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setRange(0.0, 5.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setDecimals(2);
    m_temperature->setValue(1.0);
    m_temperature->setSpecialValueText(tr("greedy"));
    m_temperature->setToolTip(tr("Sampling temperature (0: greedy decoding), top-k 50 as "
                                 "MotionGPT"));
    m_generate = new QPushButton(tr("&Generate"), this);
    m_generate->setDefault(true);
    m_generate->setToolTip(tr("Generate the prompt with both models, same seed (Enter in the "
                              "prompt)"));

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Prompt:"), this));
    controls->addWidget(m_prompt, 1);
    controls->addWidget(new QLabel(tr("Seed:"), this));
    controls->addWidget(m_seed);
    controls->addWidget(dice);
    controls->addWidget(new QLabel(tr("Temperature:"), this));
    controls->addWidget(m_temperature);
    controls->addWidget(m_generate);

    m_viewA = new MotionViewport(this);
    m_viewB = new MotionViewport(this);
    m_viewA->setObjectName(QStringLiteral("viewportA"));
    m_viewB->setObjectName(QStringLiteral("viewportB"));
    for (MotionViewport *view : {m_viewA, m_viewB}) {
        view->setClock(m_clock);
        view->showMessage(tr("Type a prompt and press Generate."));
    }
    auto *views = new QHBoxLayout;
    views->setSpacing(4);
    views->addWidget(m_viewA, 1);
    views->addWidget(m_viewB, 1);
    m_bar = new PlaybackBar(this);
    m_bar->setClock(m_clock);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("sideBySideStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(views, 1);
    layout->addWidget(m_bar);
    layout->addWidget(m_status);

    connect(m_generate, &QPushButton::clicked, this, &SideBySidePage::generate);
    connect(m_prompt, &QLineEdit::returnPressed, this, &SideBySidePage::generate);
    connect(dice, &QToolButton::clicked, this, [this] {
        m_seed->setValue(static_cast<int>(QRandomGenerator::global()->bounded(1 << 30)));
        generate();
    });
    connect(m_generator, &CompareGenerator::finished, this, &SideBySidePage::onResult);
    connect(m_pickerA, &ModelPicker::modelChanged, this, &SideBySidePage::updateTitles);
    connect(m_pickerB, &ModelPicker::modelChanged, this, &SideBySidePage::updateTitles);
    updateTitles();
}

void SideBySidePage::setPrompt(const QString &prompt)
{
    m_prompt->setText(prompt);
}

void SideBySidePage::setSeed(int seed)
{
    m_seed->setValue(seed);
}

void SideBySidePage::setTemperature(double temperature)
{
    m_temperature->setValue(temperature);
}

QString SideBySidePage::statusText() const
{
    return m_status->text();
}

bool SideBySidePage::generate()
{
    if (m_pending)
        return false;
    const QString prompt = m_prompt->text().trimmed();
    if (prompt.isEmpty()) {
        showStatus(tr("Type a prompt first."), true);
        return false;
    }
    for (ModelPicker *picker : {m_pickerA, m_pickerB})
        if (const QString problem = picker->problem(); !problem.isEmpty()) {
            showStatus(tr("%1: %2").arg(picker->title(), problem), true);
            return false;
        }
    MotionPairRequest request;
    request.key = kKey;
    request.modelA = m_pickerA->model();
    request.modelB = m_pickerB->model();
    request.prompt = prompt;
    request.seed = static_cast<std::uint64_t>(m_seed->value());
    request.temperature = m_temperature->value();
    m_pending = true;
    m_generate->setEnabled(false);
    updateTitles();
    m_clock->pause();
    for (MotionViewport *view : {m_viewA, m_viewB})
        view->showMessage(tr("Generating..."));
    showStatus(m_generator->isBusy() ? tr("Waiting for the generation before it...")
                                     : tr("Generating (the first use of a model loads it)..."),
               false);
    m_generator->submit(request);
    return true;
}

void SideBySidePage::onResult(const MotionPairResult &result)
{
    if (result.request.key != kKey)
        return;
    m_pending = false;
    m_generate->setEnabled(true);
    if (!result.ok()) {
        for (MotionViewport *view : {m_viewA, m_viewB})
            view->showMessage(tr("No motion: see the message below."));
        showStatus(result.error, true);
        // Say which model failed where we can tell.
        if (result.descriptionA.isEmpty())
            m_pickerA->setLoadError(result.error);
        else if (result.descriptionB.isEmpty())
            m_pickerB->setLoadError(result.error);
        emit generated(false, result.error);
        return;
    }
    if (result.request.modelA == m_pickerA->model())
        m_pickerA->setLoaded(result.descriptionA);
    if (result.request.modelB == m_pickerB->model())
        m_pickerB->setLoaded(result.descriptionB);
    m_viewA->setTitle(tr("A: %1").arg(modelDisplayName(result.request.modelA)));
    m_viewB->setTitle(tr("B: %1").arg(modelDisplayName(result.request.modelB)));
    m_viewA->setMotion(result.motionA.clip);
    m_viewB->setMotion(result.motionB.clip);
    m_clock->setFps(result.motionA.clip.fps > 0 ? result.motionA.clip.fps : 20.0);
    m_clock->seekToStart();
    m_clock->play();
    const QString temperature = result.request.temperature <= 0
                                    ? tr("greedy")
                                    : QString::number(result.request.temperature, 'g', 3);
    const QString message =
        tr("\"%1\", seed %2, temperature %3: A %4; B %5 (%6 s)")
            .arg(result.request.prompt)
            .arg(result.request.seed)
            .arg(temperature, motionSummary(result.motionA), motionSummary(result.motionB))
            .arg(result.seconds, 0, 'f', 1);
    showStatus(message, false);
    emit generated(true, message);
}

void SideBySidePage::showStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #a00000;") : QString());
}

void SideBySidePage::updateTitles()
{
    if (m_pending)
        return;
    // The titles name the models of the motions shown; before a generation, the pickers'.
    if (!m_viewA->hasMotion())
        m_viewA->setTitle(tr("A: %1").arg(modelDisplayName(m_pickerA->model())));
    if (!m_viewB->hasMotion())
        m_viewB->setTitle(tr("B: %1").arg(modelDisplayName(m_pickerB->model())));
}

} // namespace mp
