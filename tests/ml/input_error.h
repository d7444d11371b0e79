#pragma once
// The message of the InputError an action throws, or "<no InputError>" when it throws none: how the
// ml tests check that bad input is refused with a message that names the problem (the app tests'
// QString version is tests/app/input_error_text.h).

#include "ml/core/error.h"

#include <functional>
#include <string>

namespace mp::test {

inline std::string errorOf(const std::function<void()> &action)
{
    try {
        action();
    } catch (const InputError &error) {
        return error.what();
    }
    return "<no InputError>";
}

} // namespace mp::test
