#pragma once
// The models of the Compare panel: a bundle with an optional LoRA adapter, loaded once and kept
// (ModelCache), generating one motion for a prompt, seed and temperature. Called on worker
// threads; each model generates one motion at a time. No widgets, no torch in this header.

#include "app/compare/ab_session.h"
#include "ml/motion/motion_clip.h"

#include <QString>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

namespace mp {

class ModelBundle;

struct GeneratedMotion {
    MotionClip clip;
    std::vector<std::int64_t> tokens; // as sampled, before MotionGPT's rules
    int numCodes = 0;
    bool degenerate = false; // the model gave <= 1 code: a mean-pose motion
};

class CompareModel {
public:
    // Loads the bundle onto the device ("auto", "cpu", "cuda") and applies the adapter when the
    // reference has one. InputError naming the file for anything wrong.
    CompareModel(const AbModelRef &ref, const QString &device);
    ~CompareModel();
    CompareModel(const CompareModel &) = delete;
    CompareModel &operator=(const CompareModel &) = delete;

    const AbModelRef &ref() const { return m_ref; }
    // The files' sizes and times when loaded (modelFilesStamp).
    const QString &stamp() const { return m_stamp; }
    // "T5 d256 4+4 layers, 11.2 M parameters; LoRA r 8 on q, v" for tooltips and the status.
    QString description() const { return m_description; }
    double fps() const;

    // Thread-safe; temperature <= 0 decodes greedily. InputError for a blank prompt.
    GeneratedMotion generate(const QString &prompt, std::uint64_t seed, double temperature);

private:
    AbModelRef m_ref;
    QString m_stamp;
    QString m_description;
    std::unique_ptr<ModelBundle> m_bundle;
    std::mutex m_mutex;
};

// Loaded models by reference, most recently used first; at most `capacity` stay loaded (a
// real MotionGPT is 1 GB). Thread-safe: a worker loads, the next use finds it.
class ModelCache {
public:
    explicit ModelCache(const QString &device = QStringLiteral("cpu"), int capacity = 2);

    // Loads on first use (InputError as CompareModel's), and again when the model's files changed
    // since (a training run rewrites best/); waits while another thread loads.
    std::shared_ptr<CompareModel> get(const AbModelRef &ref);
    void setDevice(const QString &device);
    void clear();

private:
    mutable std::mutex m_mutex;
    QString m_device;
    int m_capacity;
    std::list<std::shared_ptr<CompareModel>> m_models;
};

// Size and modification time of the files a model is loaded from, to notice they were rewritten.
QString modelFilesStamp(const AbModelRef &ref);

// A short name for a model: the bundle directory's name, and the adapter's (each with its run
// directory for best/, model/ or checkpoint folders): "default", "default + dpo-ipo/best",
// "full-ft/best" (a full fine-tuning run's bundle).
QString modelDisplayName(const AbModelRef &ref);
// The adapter's part of it: "dpo-ipo/best", "lora-r8".
QString adapterDisplayName(const QString &adapterDir);

} // namespace mp
