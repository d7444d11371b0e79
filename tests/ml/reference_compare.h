#pragma once
// The goldens that tests/reference/*.py write by running the original Python libraries: where
// they are (MP_SOURCE_DIR, set by ctest), how to read them, and a closeness check that prints the
// largest difference it saw, so a run documents how close the C++ came.

#include "ml/data/safetensors.h"
#include "ml/models/t5.h"

#include "golden_files.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

namespace mp::reference {

using mp::test::goldenDir;

// A T5 that transformers saved under golden/t5/NAME (config.json + model.safetensors), in eval
// mode.
inline T5Model goldenT5(const std::string &name)
{
    const auto dir = goldenDir("t5") / name;
    T5Model model(T5Config::load(dir / "config.json"));
    model->loadWeights(dir / "model.safetensors");
    model->eval();
    return model;
}

// A golden file's tensors and its __metadata__, one JSON object under "json" (the scripts store
// a single entry so the file's bytes do not depend on a hash order).
struct Golden {
    explicit Golden(const std::filesystem::path &file)
    {
        SafetensorsReader reader(file);
        tensors = reader.readAll();
        const auto it = reader.metadata().find("json");
        if (it != reader.metadata().end())
            metadata = nlohmann::json::parse(it->second);
    }
    const at::Tensor &operator[](const std::string &name) const { return tensors.at(name); }
    const nlohmann::json &meta(const std::string &key) const { return metadata.at(key); }
    TensorMap tensors;
    nlohmann::json metadata;
};

// max |actual - expected| / max(1, max |expected|): a relative error on the tensor's scale, not
// per element (values near zero would make an element-wise ratio meaningless).
inline double relativeMaxDiff(const at::Tensor &actual, const at::Tensor &expected)
{
    const auto a = actual.detach().to(torch::kDouble).cpu();
    const auto e = expected.detach().to(torch::kDouble).cpu();
    const double scale = std::max(1.0, e.abs().max().item<double>());
    return (a - e).abs().max().item<double>() / scale;
}

// Shapes equal and relativeMaxDiff within `tolerance`; prints the difference either way.
inline void expectClose(const std::string &what, const at::Tensor &actual,
                        const at::Tensor &expected, double tolerance)
{
    ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
    const double diff = relativeMaxDiff(actual, expected);
    std::cout << "[reference] " << what << ": max relative difference " << diff << "\n";
    EXPECT_LE(diff, tolerance) << what;
}

} // namespace mp::reference
