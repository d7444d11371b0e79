#pragma once
// A fresh directory under the system temp directory, removed with its contents when the test
// ends. Process id plus a counter name it, so parallel ctest runs and several per test never
// collide.

#include <filesystem>
#include <string>

#include <unistd.h>

namespace mp::test {

class TempDir {
public:
    explicit TempDir(const std::string &prefix = "mp_test")
    {
        m_path = std::filesystem::temp_directory_path() /
                 (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(s_count++));
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() { std::filesystem::remove_all(m_path); }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    const std::filesystem::path &path() const { return m_path; }
    std::filesystem::path operator/(const std::string &name) const { return m_path / name; }

private:
    static inline int s_count = 0;
    std::filesystem::path m_path;
};

} // namespace mp::test
