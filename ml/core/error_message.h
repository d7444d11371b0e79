#pragma once
// Error messages cut to a size a terminal line or a message box can show.

#include <cstddef>
#include <string>

namespace mp {

// MESSAGE cut after maxBytes, at a UTF-8 character boundary, with "... (N more bytes)": a
// message can quote a whole bad token (nlohmann's syntax errors: 100 KB for a 100,000-digit
// number). Our messages name the file first, so that part stays.
inline constexpr std::size_t kMaxErrorMessageBytes = 1000;
std::string shortenedMessage(std::string message, std::size_t maxBytes = kMaxErrorMessageBytes);

} // namespace mp
