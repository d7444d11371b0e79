#pragma once
// A setting's names: a table of {value, name} read by a config parser (parseNamed, whose error
// lists the accepted names) and by writers (nameOf).

#include <cstddef>
#include <string>
#include <string_view>

#include "ml/core/error.h"

namespace mp {

template <typename Kind> struct Named {
    Kind kind;
    std::string_view name;
};

// InputError "unknown WHAT 'NAME' (expected one of a, b, c)" when no entry has that name.
template <typename Kind, std::size_t N>
Kind parseNamed(const Named<Kind> (&table)[N], std::string_view name, std::string_view what)
{
    std::string accepted;
    for (const auto &entry : table) {
        if (entry.name == name)
            return entry.kind;
        accepted += (accepted.empty() ? "" : ", ") + std::string(entry.name);
    }
    throw InputError("unknown " + std::string(what) + " '" + std::string(name) +
                     "' (expected one of " + accepted + ")");
}

// The entry's name; the table's first name for a value it lacks.
template <typename Kind, std::size_t N>
std::string_view nameOf(const Named<Kind> (&table)[N], Kind kind)
{
    for (const auto &entry : table)
        if (entry.kind == kind)
            return entry.name;
    return table[0].name;
}

} // namespace mp
