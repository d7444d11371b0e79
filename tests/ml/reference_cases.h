#pragma once
// Goldens written as case lists: golden/<topic>/<name>.json (cases, scalar metrics) beside
// <name>.safetensors (the tensors the cases name by key), as tests/reference/loss_inputs.py
// writes them; and a table of the largest difference seen per compared quantity, printed when
// the test ends so a run documents how close the C++ came.

#include "ml/data/safetensors.h"

#include "golden_files.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>

namespace mp::test {

// Relative tolerances: both sides compute in float64; one side rounds through float32.
inline constexpr double kFloat64Tol = 1e-9;
inline constexpr double kFloat32Tol = 1e-6;

struct Golden {
    nlohmann::json json;
    TensorMap tensors;

    // The tensor a case names; fails the test when it is missing.
    at::Tensor tensor(const std::string &key) const
    {
        const auto it = tensors.find(key);
        if (it == tensors.end()) {
            ADD_FAILURE() << "golden tensor missing: " << key;
            return {};
        }
        return it->second;
    }
};

// golden/<topic>/<name>.{json,safetensors} under MP_SOURCE_DIR (set by ctest).
inline Golden readGolden(const std::string &topic, const std::string &name)
{
    const auto stem = goldenDir(topic) / name;
    Golden golden;
    golden.json = readJsonFile(stem.string() + ".json");
    golden.tensors = readSafetensors(stem.string() + ".safetensors");
    return golden;
}

// Largest |actual - expected| per quantity; each value is checked against tol·max(1, |expected|).
class DiffTable {
public:
    explicit DiffTable(std::string title) : m_title(std::move(title)) {}
    ~DiffTable()
    {
        std::cout << "[ largest difference ] " << m_title << "\n";
        for (const auto &[what, diff] : m_largest)
            std::cout << "  " << std::left << std::setw(36) << what << std::scientific
                      << std::setprecision(2) << diff << "\n";
    }

    void expectNear(const std::string &what, double actual, double expected, double tol,
                    const std::string &where)
    {
        const double diff = std::abs(actual - expected);
        double &largest = m_largest[what];
        largest = std::max(largest, std::isnan(diff) ? INFINITY : diff);
        EXPECT_LE(diff, tol * std::max(1.0, std::abs(expected)))
            << where << " " << what << ": " << actual << " vs " << expected;
    }

    void expectTensorNear(const std::string &what, const at::Tensor &actual,
                          const at::Tensor &expected, double tol, const std::string &where)
    {
        ASSERT_TRUE(actual.defined() && expected.defined()) << where << " " << what;
        ASSERT_EQ(actual.numel(), expected.numel()) << where << " " << what;
        const at::Tensor a = actual.detach().to(torch::kDouble).reshape(-1).contiguous();
        const at::Tensor e = expected.detach().to(torch::kDouble).reshape(-1).contiguous();
        for (std::int64_t i = 0; i < a.numel(); ++i)
            expectNear(what, a[i].item<double>(), e[i].item<double>(), tol,
                       where + "[" + std::to_string(i) + "]");
    }

private:
    std::string m_title;
    std::map<std::string, double> m_largest;
};

} // namespace mp::test
