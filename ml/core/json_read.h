#pragma once
// Reading JSON files: parsing with a nesting limit, optional keys with errors that name the file.

#include "ml/core/error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

namespace mp {

// No file of ours nests past a handful of levels; a deeper one is broken or hostile, and
// nlohmann's dump() (error messages, configs written back) recurses once per level, so a
// million-level array would overflow the stack.
inline constexpr int kMaxJsonDepth = 100;

// nlohmann::json::parse refusing nesting past kMaxJsonDepth with an InputError "SOURCE: JSON
// nested deeper than 100 levels" as soon as the parser gets there. Syntax errors stay
// nlohmann::json::parse_error, for the caller to word.
template <typename... Input>
nlohmann::json parseJsonLimited(const std::string &source, Input &&...input)
{
    return nlohmann::json::parse(
        std::forward<Input>(input)...,
        [&source](int depth, nlohmann::json::parse_event_t, nlohmann::json &) {
            if (depth > kMaxJsonDepth)
                throw InputError(source + ": JSON nested deeper than " +
                                 std::to_string(kMaxJsonDepth) + " levels");
            return true;
        });
}

// At most the first 80 characters of a value, for an error message.
inline std::string jsonExcerpt(const nlohmann::json &value)
{
    std::string text = value.dump();
    if (text.size() > 80)
        text = text.substr(0, 77) + "...";
    return text;
}

// Sets value from json[key] when the key is present and not null; leaves the default otherwise.
// InputError "SOURCE: 'KEY' has the wrong type (VALUE)" when it cannot be converted.
template <typename T>
void readOptionalKey(const nlohmann::json &json, const char *key, T &value,
                     const std::string &source)
{
    if (!json.contains(key) || json[key].is_null())
        return;
    try {
        value = json[key].get<T>();
    } catch (const nlohmann::json::exception &) {
        throw InputError(source + ": '" + key + "' has the wrong type (" +
                         jsonExcerpt(json[key]) + ")");
    }
}

} // namespace mp
