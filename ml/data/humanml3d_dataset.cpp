#include "ml/data/humanml3d_dataset.h"

#include "ml/core/error.h"
#include "ml/data/npy.h"
#include "ml/motion/features.h"
#include "ml/motion/motion_checks.h"

#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace mp {
namespace {

std::string trim(const std::string &s)
{
    const auto begin = s.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos)
        return {};
    const auto end = s.find_last_not_of(" \t\r\n");
    return s.substr(begin, end - begin + 1);
}

std::vector<std::string> splitOn(const std::string &s, char separator)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto at = s.find(separator, start);
        parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos)
            return parts;
        start = at + 1;
    }
}

std::string readText(const fs::path &path, const char *what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(path.string() + ": cannot open " + what);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

double parseTime(const std::string &field, const std::string &where, const char *what)
{
    const std::string text = trim(field);
    char *end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size())
        throw InputError(where + ": bad " + what + " time '" + text + "'");
    // T2M reads a missing time written as nan as 0 (the whole clip).
    if (std::isnan(value))
        return 0.0;
    if (std::isinf(value) || value < 0)
        throw InputError(where + ": bad " + what + " time '" + text + "'");
    return value;
}

std::string timeText(double seconds)
{
    std::ostringstream out;
    out << seconds;
    std::string s = out.str();
    if (s.find_first_of(".e") == std::string::npos)
        s += ".0";
    return s;
}

// T2M names sub-clips with a random capital and an underscore; ours are A_, B_, ... in line order.
std::string subClipName(std::size_t index, const std::string &name)
{
    std::string prefix(1, static_cast<char>('A' + index % 26));
    if (index >= 26)
        prefix += std::to_string(index / 26);
    return prefix + "_" + name;
}

std::vector<std::string> readSplit(const fs::path &path)
{
    if (!fs::exists(path))
        throw InputError(path.string() + ": missing split file");
    std::vector<std::string> names;
    std::istringstream lines(readText(path, "split file"));
    for (std::string line; std::getline(lines, line);) {
        line = trim(line);
        if (line.empty())
            continue;
        if (line.find('/') != std::string::npos || line.find('\\') != std::string::npos ||
            line == "..")
            throw InputError(path.string() + ": '" + line + "' is not a clip name");
        names.push_back(line);
    }
    return names;
}

} // namespace

std::vector<Caption> parseCaptions(const std::string &text, const std::string &sourceName)
{
    std::vector<Caption> captions;
    std::istringstream lines(text);
    int lineNumber = 0;
    for (std::string line; std::getline(lines, line);) {
        ++lineNumber;
        if (trim(line).empty())
            continue;
        const std::string where = sourceName + ":" + std::to_string(lineNumber);
        const auto fields = splitOn(trim(line), '#');
        if (fields.size() < 4)
            throw InputError(where + ": expected 'caption#tokens#start#end', got " +
                             std::to_string(fields.size()) + " field" +
                             (fields.size() == 1 ? "" : "s"));
        Caption caption;
        caption.text = trim(fields[0]);
        if (caption.text.empty())
            throw InputError(where + ": empty caption");
        for (const auto &token : splitOn(fields[1], ' '))
            if (!trim(token).empty())
                caption.tokens.push_back(trim(token));
        caption.startS = parseTime(fields[2], where, "start");
        caption.endS = parseTime(fields[3], where, "end");
        captions.push_back(std::move(caption));
    }
    return captions;
}

std::vector<Caption> readCaptionFile(const fs::path &path)
{
    return parseCaptions(readText(path, "text file"), path.string());
}

std::string formatCaptionLine(const Caption &caption)
{
    auto clean = [](std::string s) {
        for (char &c : s)
            if (c == '#' || c == '\n' || c == '\r')
                c = ' ';
        return s;
    };
    std::string tokens;
    for (const auto &token : caption.tokens)
        tokens += (tokens.empty() ? "" : " ") + clean(token);
    return clean(caption.text) + "#" + tokens + "#" + timeText(caption.startS) + "#" +
           timeText(caption.endS);
}

HumanMl3dDataset HumanMl3dDataset::open(const fs::path &root, const HumanMl3dOptions &options)
{
    if (!fs::is_directory(root))
        throw InputError(root.string() + ": not a directory");
    HumanMl3dDataset dataset;
    dataset.m_root = root;
    dataset.m_options = options;

    const bool hasMean = fs::exists(root / "Mean.npy"), hasStd = fs::exists(root / "Std.npy");
    if (hasMean != hasStd)
        throw InputError((root / (hasMean ? "Std.npy" : "Mean.npy")).string() +
                         ": missing (the other half of the normalization is there)");
    if (hasMean)
        dataset.m_normalizer = Normalizer::loadDirectory(root);

    const auto names = readSplit(root / (options.split + ".txt"));
    const auto featureDir = root / "new_joint_vecs";
    if (!fs::is_directory(featureDir))
        throw InputError(featureDir.string() + ": missing directory");

    for (std::size_t n = 0; n < names.size(); ++n) {
        reportProgress(options.progress, static_cast<int64_t>(n),
                       static_cast<int64_t>(names.size()), "reading HumanML3D");
        const std::string &name = names[n];
        try {
            const auto path = featureDir / (name + ".npy");
            at::Tensor full;
            int64_t frames = 0;
            if (options.preload) {
                full = npy::read(path);
                checkFeatures(full, path.string());
                full = full.to(torch::kFloat32);
                frames = full.size(0);
            } else {
                const auto header = npy::readHeader(path);
                if (header.shape.size() != 2 || header.shape[1] != kFeatureDim) {
                    std::string shape;
                    for (const auto dim : header.shape)
                        shape += (shape.empty() ? "" : ",") + std::to_string(dim);
                    throw InputError(path.string() + ": expected features shape (T," +
                                     std::to_string(kFeatureDim) + "), got (" + shape + ")");
                }
                frames = header.shape[0];
            }
            // T2M drops the whole file, sub-clips included, when the clip is out of range.
            if (frames < options.minFrames || frames >= options.maxFramesExclusive) {
                ++dataset.m_numFiltered;
                continue;
            }
            const auto captions = readCaptionFile(root / "texts" / (name + ".txt"));
            std::vector<MotionRecord> found;
            MotionRecord whole{.name = name, .file = name, .startFrame = 0, .numFrames = frames};
            std::size_t subClips = 0;
            for (const auto &caption : captions) {
                if (caption.startS == 0.0 && caption.endS == 0.0) {
                    whole.captions.push_back(caption);
                    continue;
                }
                // Python's int() truncation and slice clamping, as T2M's
                // motion[int(f*20):int(t*20)].
                const auto begin = std::clamp<int64_t>(
                    static_cast<int64_t>(std::trunc(caption.startS * options.fps)), 0, frames);
                const auto end = std::clamp<int64_t>(
                    static_cast<int64_t>(std::trunc(caption.endS * options.fps)), 0, frames);
                const int64_t length = std::max<int64_t>(0, end - begin);
                if (length < options.minFrames || length >= options.maxFramesExclusive)
                    continue;
                found.push_back({.name = subClipName(subClips++, name),
                                 .file = name,
                                 .startFrame = begin,
                                 .numFrames = length,
                                 .captions = {caption}});
            }
            if (!whole.captions.empty())
                found.insert(found.begin(), std::move(whole));
            if (found.empty())
                ++dataset.m_numFiltered;
            for (auto &record : found) {
                dataset.m_records.push_back(std::move(record));
                dataset.m_cache.push_back(full);
            }
        } catch (const InputError &error) {
            if (!options.skipBad)
                throw;
            dataset.m_problems.push_back(error.what());
            if (options.onProblem)
                options.onProblem(error.what());
        }
    }
    reportProgress(options.progress, static_cast<int64_t>(names.size()),
                   static_cast<int64_t>(names.size()), "reading HumanML3D");
    return dataset;
}

const MotionRecord &HumanMl3dDataset::record(int64_t index) const
{
    if (index < 0 || index >= size())
        throw std::out_of_range("HumanMl3dDataset: index " + std::to_string(index) +
                                " out of range (size " + std::to_string(size()) + ")");
    return m_records[static_cast<std::size_t>(index)];
}

at::Tensor HumanMl3dDataset::loadFile(const std::string &stem) const
{
    const auto path = m_root / "new_joint_vecs" / (stem + ".npy");
    auto full = npy::read(path);
    checkFeatures(full, path.string());
    return full.to(torch::kFloat32);
}

at::Tensor HumanMl3dDataset::features(int64_t index) const
{
    const auto &r = record(index);
    auto full = m_cache[static_cast<std::size_t>(index)];
    if (!full.defined())
        full = loadFile(r.file);
    if (full.size(0) < r.startFrame + r.numFrames)
        throw InputError((m_root / "new_joint_vecs" / (r.file + ".npy")).string() + ": has " +
                         std::to_string(full.size(0)) + " frames, expected at least " +
                         std::to_string(r.startFrame + r.numFrames) + " (changed on disk?)");
    return full.narrow(0, r.startFrame, r.numFrames);
}

at::Tensor HumanMl3dDataset::joints(int64_t index) const
{
    const auto &r = record(index);
    const auto path = m_root / "new_joints" / (r.file + ".npy");
    auto full = npy::read(path);
    checkJoints(full, path.string());
    if (full.size(0) < r.startFrame + r.numFrames)
        throw InputError(path.string() + ": has " + std::to_string(full.size(0)) +
                         " frames, the features need " +
                         std::to_string(r.startFrame + r.numFrames));
    return full.to(torch::kFloat32).narrow(0, r.startFrame, r.numFrames);
}

} // namespace mp
