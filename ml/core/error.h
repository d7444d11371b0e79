#pragma once
// Error types shared by every layer. InputError marks a problem with what the user gave us
// (a file, a flag, a prompt): the CLI exits 1 with its message. Anything else is internal (exit 2).

#include <stdexcept>
#include <string>

namespace mp {

class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by long operations whose progress callback asked to stop.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

// Prefixes an error message with context ("model.safetensors: tensor 'x': ...") keeping its type.
[[noreturn]] void rethrowWithContext(const std::string &context);

} // namespace mp
