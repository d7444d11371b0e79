#pragma once
// An exception's message for the GUI: a message box or status line, never 100 KB of a quoted
// token (shortenedMessage).

#include "ml/core/error_message.h"

#include <QString>

#include <exception>

namespace mp {

inline QString errorText(const std::exception &error)
{
    return QString::fromStdString(shortenedMessage(error.what()));
}

} // namespace mp
