#include "app/compare/compare_model.h"

#include "ml/core/error.h"

// LibTorch's jit headers have a member named slots(), which Qt's keyword macro would eat.
#pragma push_macro("slots")
#undef slots
#include "ml/core/device.h"
#include "ml/models/bundle.h"
#include "ml/models/lora.h"
#include "ml/motion/skeleton.h"
#include <torch/nn/module.h>
#pragma pop_macro("slots")

#include <QDateTime>
#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace mp {

namespace {
QString parameterCount(std::int64_t count)
{
    if (count >= 1000000)
        return QStringLiteral("%1 M").arg(count / 1e6, 0, 'f', 1);
    return QStringLiteral("%1 k").arg(count / 1e3, 0, 'f', 1);
}

std::int64_t numelOf(const std::vector<at::Tensor> &tensors)
{
    std::int64_t total = 0;
    for (const auto &tensor : tensors)
        total += tensor.numel();
    return total;
}
} // namespace

CompareModel::CompareModel(const AbModelRef &ref, const QString &device)
    : m_ref(ref), m_stamp(modelFilesStamp(ref))
{
    if (ref.bundleDir.isEmpty())
        throw InputError("no model bundle directory given");
    const c10::Device resolved = resolveDevice(device.toStdString());
    m_bundle = std::make_unique<ModelBundle>(ref.bundleDir.toStdString(), resolved);
    const BundleConfig &config = m_bundle->config();
    m_description = QStringLiteral("T5 d%1 %2+%3 layers, %4 parameters; %5 motion codes")
                        .arg(config.t5.dModel)
                        .arg(config.t5.numLayers)
                        .arg(config.t5.numDecoderLayers)
                        .arg(parameterCount(numelOf(m_bundle->t5()->parameters())))
                        .arg(config.tokens.numMotionCodes);
    if (!ref.adapterDir.isEmpty()) {
        const LoraConfig lora = loadLoraAdapter(*m_bundle->t5(), ref.adapterDir.toStdString());
        m_bundle->t5()->eval();
        QStringList targets;
        for (const auto &target : lora.targetModules)
            targets << QString::fromStdString(target);
        m_description += QStringLiteral("; LoRA r %1 α %2 on %3 (%4)")
                             .arg(lora.rank)
                             .arg(lora.alpha)
                             .arg(targets.join(QStringLiteral(", ")))
                             .arg(parameterCount(numelOf(loraParameters(*m_bundle->t5()))));
    }
}

CompareModel::~CompareModel() = default;

double CompareModel::fps() const
{
    return m_bundle->config().fps;
}

GeneratedMotion CompareModel::generate(const QString &prompt, std::uint64_t seed,
                                       double temperature)
{
    const std::lock_guard lock(m_mutex);
    GenerateOptions options = m_bundle->defaultOptions({seed});
    options.sampling.temperature = temperature;
    options.sampling.greedy = temperature <= 0;
    const auto samples = m_bundle->generate(prompt.toStdString(), options);
    if (samples.size() != 1)
        throw std::runtime_error("generate returned " + std::to_string(samples.size()) +
                                 " samples for one seed");
    const MotionSample &sample = samples.front();
    if (!sample.joints.defined())
        throw InputError(m_ref.bundleDir.toStdString() +
                         ": this model's features are not HumanML3D's 263, there are no joints "
                         "to show");
    GeneratedMotion motion;
    motion.clip = toMotionClip(sample.joints, smpl22(), m_bundle->config().fps);
    motion.tokens = sample.tokens;
    motion.numCodes = static_cast<int>(sample.codes.size());
    motion.degenerate = sample.degenerate;
    return motion;
}

ModelCache::ModelCache(const QString &device, int capacity)
    : m_device(device), m_capacity(std::max(1, capacity))
{
}

std::shared_ptr<CompareModel> ModelCache::get(const AbModelRef &ref)
{
    const std::lock_guard lock(m_mutex);
    auto found = std::find_if(m_models.begin(), m_models.end(),
                              [&](const auto &model) { return model->ref() == ref; });
    if (found != m_models.end() && (*found)->stamp() != modelFilesStamp(ref)) {
        m_models.erase(found); // rewritten on disk: load it again
        found = m_models.end();
    }
    if (found != m_models.end()) {
        m_models.splice(m_models.begin(), m_models, found);
        return m_models.front();
    }
    // Loading under the lock: one worker at a time loads, and never the same model twice.
    auto model = std::make_shared<CompareModel>(ref, m_device);
    m_models.push_front(model);
    while (static_cast<int>(m_models.size()) > m_capacity)
        m_models.pop_back(); // a worker still using it keeps its shared_ptr
    return model;
}

void ModelCache::setDevice(const QString &device)
{
    const std::lock_guard lock(m_mutex);
    if (device != m_device)
        m_models.clear();
    m_device = device;
}

void ModelCache::clear()
{
    const std::lock_guard lock(m_mutex);
    m_models.clear();
}

QString modelFilesStamp(const AbModelRef &ref)
{
    QStringList files;
    for (const char *name : {"config.json", "model.safetensors", "vqvae.safetensors",
                             "meta.safetensors", "spiece.model"})
        files << QDir(ref.bundleDir).filePath(QLatin1String(name));
    if (!ref.adapterDir.isEmpty())
        for (const char *name : {"adapter_config.json", "adapter_model.safetensors"})
            files << QDir(ref.adapterDir).filePath(QLatin1String(name));
    QStringList parts;
    for (const QString &file : files) {
        const QFileInfo info(file);
        parts << QStringLiteral("%1@%2")
                     .arg(info.size())
                     .arg(info.lastModified().toMSecsSinceEpoch());
    }
    return parts.join(QLatin1Char(','));
}

QString modelDisplayName(const AbModelRef &ref)
{
    // A full fine-tuning run's best/ or model/ is a bundle: named with its run, as an adapter.
    QString name = ref.bundleDir.isEmpty() ? QString() : adapterDisplayName(ref.bundleDir);
    if (name.isEmpty())
        name = QStringLiteral("(no bundle)");
    if (ref.adapterDir.isEmpty())
        return name;
    return name + QStringLiteral(" + ") + adapterDisplayName(ref.adapterDir);
}

QString adapterDisplayName(const QString &adapterDir)
{
    const QDir adapter(QDir::cleanPath(adapterDir));
    QString adapterName = adapter.dirName();
    // best/, checkpoints/12/, adapter/ or model/ say little without their run directory.
    static const QStringList generic = {QStringLiteral("best"), QStringLiteral("adapter"),
                                        QStringLiteral("model"), QStringLiteral("final"),
                                        QStringLiteral("last")};
    QDir parentDir = QFileInfo(adapter.absolutePath()).dir();
    // An experiment's run trains in runs/NAME/train/: NAME says which configuration and seed.
    if (parentDir.dirName() == QLatin1String("train") && !parentDir.isRoot())
        parentDir = QFileInfo(parentDir.absolutePath()).dir();
    const QString parent = parentDir.dirName();
    bool numeric = false;
    adapterName.toInt(&numeric);
    if (generic.contains(adapterName) || numeric ||
        adapterName.startsWith(QLatin1String("checkpoint")))
        adapterName = parent + QLatin1Char('/') + adapterName;
    return adapterName;
}

} // namespace mp
