#include "ml/core/error.h"
#include "ml/core/error_message.h"

#include <exception>

namespace mp {

std::string shortenedMessage(std::string message, std::size_t maxBytes)
{
    if (message.size() <= maxBytes)
        return message;
    std::size_t end = maxBytes;
    while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80)
        --end; // not inside a UTF-8 character
    const std::size_t left = message.size() - end;
    message.resize(end);
    return message + "... (" + std::to_string(left) + " more bytes)";
}

void rethrowWithContext(const std::string &context)
{
    try {
        throw;
    } catch (const InputError &e) {
        throw InputError(context + ": " + e.what());
    } catch (const Cancelled &) {
        throw;
    } catch (const std::exception &e) {
        throw std::runtime_error(context + ": " + e.what());
    }
}

} // namespace mp
