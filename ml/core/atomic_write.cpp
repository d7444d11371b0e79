#include "ml/core/atomic_write.h"

#include "ml/core/error.h"

#include <fstream>
#include <string>

namespace mp {

void writeFileAtomically(const std::filesystem::path &path, std::string_view text)
{
    const std::filesystem::path temporary = path.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        if (!out.flush())
            throw InputError(temporary.string() + ": cannot write");
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec)
        throw InputError(path.string() + ": cannot replace: " + ec.message());
}

} // namespace mp
