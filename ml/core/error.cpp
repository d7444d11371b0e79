#include "ml/core/error.h"

#include <exception>

namespace mp {

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
