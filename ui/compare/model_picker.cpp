#include "ui/compare/model_picker.h"

#include "app/compare/compare_model.h"
#include "app/core/settings.h"
#include "ui/compare/path_field.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QToolButton>

namespace mp {

ModelPicker::ModelPicker(const QString &title, const QString &defaultBundle, QWidget *parent)
    : QGroupBox(title, parent), m_defaultBundle(defaultBundle)
{
    m_bundle = new PathField(
        [](const QString &dir) { return modelDisplayName(dir); },
        tr("Model bundle directory (config.json, model.safetensors, vqvae.safetensors, "
           "spiece.model, meta.safetensors):"),
        this);
    m_bundle->setObjectName(QStringLiteral("bundleField"));
    m_adapter = new PathField(adapterDisplayName,
                              tr("LoRA adapter directory in PEFT's layout (adapter_config.json, "
                                 "adapter_model.safetensors), e.g. a training run's best/:"),
                              this);
    m_adapter->setObjectName(QStringLiteral("adapterField"));
    m_adapter->setPlaceholderText(tr("none: the bundle alone"));
    m_adapter->setClearButtonEnabled(true);
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
        m_bundle->setPath(m_defaultBundle);
        commit();
    });
    connect(m_bundle, &PathField::pathEdited, this, &ModelPicker::commit);
    connect(m_adapter, &PathField::pathEdited, this, &ModelPicker::commit);
    m_bundle->setPath(defaultBundle);
    m_committed = model();
    commit(); // the status line only: nothing changed yet
}

AbModelRef ModelPicker::model() const
{
    const QString bundle = m_bundle->path();
    const QString adapter = m_adapter->path();
    return {bundle.isEmpty() ? QString() : QDir::cleanPath(bundle),
            adapter.isEmpty() ? QString() : QDir::cleanPath(adapter)};
}

void ModelPicker::setModel(const AbModelRef &model)
{
    m_bundle->setPath(model.bundleDir);
    m_adapter->setPath(model.adapterDir);
    commit();
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
        QFileDialog::getExistingDirectory(this, tr("Model bundle directory"), m_bundle->path());
    if (dir.isEmpty())
        return;
    m_bundle->setPath(dir);
    commit();
}

void ModelPicker::browseAdapter()
{
    const QString start = m_adapter->path().isEmpty() ? QDir::homePath() : m_adapter->path();
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("LoRA adapter directory"), start);
    if (dir.isEmpty())
        return;
    m_adapter->setPath(dir);
    commit();
}

void ModelPicker::commit()
{
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
