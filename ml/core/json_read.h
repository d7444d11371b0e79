#pragma once
// Reading optional keys of a JSON config file with errors that name the file.

#include "ml/core/error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace mp {

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
        throw InputError(source + ": '" + key + "' has the wrong type (" + json[key].dump() + ")");
    }
}

} // namespace mp
