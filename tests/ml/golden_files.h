#pragma once
// Where the goldens that tests/reference/*.py write live (MP_SOURCE_DIR, set by ctest, +
// tests/reference/golden/TOPIC) and how a test reads their JSON: one place for every reference
// test.

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace mp::test {

inline std::filesystem::path goldenDir(const std::string &topic)
{
    const char *source = std::getenv("MP_SOURCE_DIR");
    if (!source)
        throw std::runtime_error("MP_SOURCE_DIR is not set (ctest sets it to the checkout)");
    return std::filesystem::path(source) / "tests" / "reference" / "golden" / topic;
}

inline nlohmann::json readJsonFile(const std::filesystem::path &path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot open " + path.string());
    return nlohmann::json::parse(in);
}

} // namespace mp::test
