#include "ui/compare/model_picker.h"

#include "app/compare/compare_model.h"
#include "app/core/settings.h"

#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QToolButton>

namespace mp {

ModelPicker::ModelPicker(const QString &title, const QString &defaultBundle, QWidget *parent)
    : QGroupBox(title, parent), m_defaultBundle(defaultBundle)
{
    m_bundle = new QLineEdit(this);
    m_bundle->setObjectName(QStringLiteral("bundleField"));
    m_adapter = new QLineEdit(this);
    m_adapter->setObjectName(QStringLiteral("adapterField"));
    m_adapter->setPlaceholderText(tr("none: the bundle alone"));
    m_adapter->setClearButtonEnabled(true);
    m_bundle->installEventFilter(this);
    m_adapter->installEventFilter(this);
    auto *browseBundle = new QToolButton(this);
    browseBundle->setText(tr("..."));
    browseBundle->setToolTip(tr("Choose a model bundle directory"));
    auto *useDefault = new QToolButton(this);
    useDefault->setText(tr("Default"));
    useDefault->setToolTip(
        tr("The default model bundle (the embedded one unless changed in the settings): %1")
            .arg(defaultBundle));
    auto *browseAdapter = new QToolButton(this);
    browseAdapter->setText(tr("..."));
    browseAdapter->setToolTip(tr("Choose a LoRA adapter directory"));
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("modelStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(8, 4, 8, 4);
    grid->setVerticalSpacing(2);
    grid->addWidget(new QLabel(tr("Bundle:"), this), 0, 0);
    grid->addWidget(m_bundle, 0, 1);
    grid->addWidget(browseBundle, 0, 2);
    grid->addWidget(useDefault, 0, 3);
    grid->addWidget(new QLabel(tr("LoRA adapter:"), this), 1, 0);
    grid->addWidget(m_adapter, 1, 1);
    grid->addWidget(browseAdapter, 1, 2);
    grid->addWidget(m_status, 2, 0, 1, 4);
    grid->setColumnStretch(1, 1);

    connect(browseBundle, &QToolButton::clicked, this, &ModelPicker::browseBundle);
    connect(browseAdapter, &QToolButton::clicked, this, &ModelPicker::browseAdapter);
    connect(useDefault, &QToolButton::clicked, this, [this] {
        m_model.bundleDir = QDir::cleanPath(m_defaultBundle);
        commit();
    });
    connect(m_bundle, &QLineEdit::editingFinished, this, [this] { takeTypedPath(m_bundle); });
    connect(m_adapter, &QLineEdit::editingFinished, this, [this] { takeTypedPath(m_adapter); });
    connect(m_adapter, &QLineEdit::textChanged, this, [this](const QString &text) {
        if (text.isEmpty() && !m_model.adapterDir.isEmpty()) { // the clear button
            m_model.adapterDir.clear();
            commit();
        }
    });
    m_model.bundleDir = defaultBundle.isEmpty() ? QString() : QDir::cleanPath(defaultBundle);
    m_committed = m_model;
    commit(); // the fields and the status line only: nothing changed yet
}

AbModelRef ModelPicker::model() const
{
    return m_model;
}

void ModelPicker::setModel(const AbModelRef &model)
{
    m_model = {model.bundleDir.isEmpty() ? QString() : QDir::cleanPath(model.bundleDir),
               model.adapterDir.isEmpty() ? QString() : QDir::cleanPath(model.adapterDir)};
    commit();
}

bool ModelPicker::eventFilter(QObject *watched, QEvent *event)
{
    // The path to edit while a field has the focus; the name again once it is committed.
    if (watched == m_bundle || watched == m_adapter) {
        auto *field = static_cast<QLineEdit *>(watched);
        if (event->type() == QEvent::FocusIn) {
            const QString &path = field == m_bundle ? m_model.bundleDir : m_model.adapterDir;
            const QSignalBlocker quiet(field); // no textChanged: this is no edit
            field->setText(QDir::toNativeSeparators(path));
        } else if (event->type() == QEvent::FocusOut) {
            // Qt 6 sends editingFinished on leaving only after an edit since the last one.
            takeTypedPath(field);
        }
    }
    return QGroupBox::eventFilter(watched, event);
}

void ModelPicker::takeTypedPath(QLineEdit *field)
{
    if (field->isModified()) { // typed, not only focused and left
        const QString text = field->text().trimmed();
        (field == m_bundle ? m_model.bundleDir : m_model.adapterDir) =
            text.isEmpty() ? QString() : QDir::cleanPath(QDir::fromNativeSeparators(text));
        field->setModified(false);
    }
    commit(); // the name again, unless the field still has the focus (Return)
}

void ModelPicker::showModel()
{
    const auto show = [](QLineEdit *field, const QString &path, const QString &name,
                         const QString &what) {
        const QSignalBlocker quiet(field);
        if (!field->hasFocus())
            field->setText(path.isEmpty() ? QString() : name);
        field->setToolTip(
            path.isEmpty() ? what : what + QStringLiteral("\n") + QDir::toNativeSeparators(path));
    };
    show(m_bundle, m_model.bundleDir, modelDisplayName(m_model.bundleDir),
         tr("Model bundle directory (config.json, model.safetensors, vqvae.safetensors, "
            "spiece.model, meta.safetensors):"));
    show(m_adapter, m_model.adapterDir, adapterDisplayName(m_model.adapterDir),
         tr("LoRA adapter directory in PEFT's layout (adapter_config.json, "
            "adapter_model.safetensors), e.g. a training run's best/:"));
}

QString ModelPicker::problem() const
{
    const AbModelRef ref = model();
    if (ref.bundleDir.isEmpty())
        return tr("Choose a model bundle directory.");
    if (!QFileInfo(QDir(ref.bundleDir).filePath(QStringLiteral("config.json"))).isFile())
        return tr("No model bundle at %1 (config.json is missing).")
            .arg(QDir::toNativeSeparators(ref.bundleDir));
    if (!ref.adapterDir.isEmpty() &&
        !QFileInfo(QDir(ref.adapterDir).filePath(QStringLiteral("adapter_config.json"))).isFile())
        return tr("No LoRA adapter at %1 (adapter_config.json is missing).")
            .arg(QDir::toNativeSeparators(ref.adapterDir));
    return QString();
}

void ModelPicker::setLoaded(const QString &description)
{
    const AbModelRef ref = model();
    m_descriptions.insert(ref.bundleDir + QLatin1Char('\n') + ref.adapterDir, description);
    showStatus(tr("%1: %2").arg(modelDisplayName(ref), description), false);
}

void ModelPicker::setLoadError(const QString &error)
{
    showStatus(error, true);
}

void ModelPicker::browseBundle()
{
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Model bundle directory"), m_model.bundleDir);
    if (dir.isEmpty())
        return;
    m_model.bundleDir = QDir::cleanPath(dir);
    commit();
}

void ModelPicker::browseAdapter()
{
    const QString start = m_model.adapterDir.isEmpty() ? QDir::homePath() : m_model.adapterDir;
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("LoRA adapter directory"), start);
    if (dir.isEmpty())
        return;
    m_model.adapterDir = QDir::cleanPath(dir);
    commit();
}

void ModelPicker::commit()
{
    showModel();
    const AbModelRef now = model();
    const QString trouble = problem();
    const QString loaded = m_descriptions.value(now.bundleDir + QLatin1Char('\n') + now.adapterDir);
    if (!trouble.isEmpty())
        showStatus(trouble, true);
    else if (!loaded.isEmpty())
        showStatus(tr("%1: %2").arg(modelDisplayName(now), loaded), false);
    else
        showStatus(tr("%1 (loads on first use)").arg(modelDisplayName(now)), false);
    if (now == m_committed)
        return;
    m_committed = now;
    emit modelChanged();
}

void ModelPicker::showStatus(const QString &text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #a00000;") : QString());
}

} // namespace mp
