#pragma once
// The message of the InputError an action throws, or an empty string when it throws none: how the
// app tests check that bad input is refused with a message that names the problem.

#include "ml/core/error.h"

#include <QString>

#include <functional>

namespace mp::test {

inline QString inputError(const std::function<void()> &action)
{
    try {
        action();
    } catch (const InputError &error) {
        return QString::fromUtf8(error.what());
    }
    return QString();
}

} // namespace mp::test
