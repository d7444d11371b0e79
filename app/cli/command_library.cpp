#include "app/cli/command_library.h"

#include <map>
#include <stdexcept>
#include <system_error>

#include <dlfcn.h>

namespace mp::cli {

std::filesystem::path commandLibraryPath(const std::string &name)
{
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error)
        throw std::runtime_error("cannot find this executable (/proc/self/exe): " +
                                 error.message());
    return self.parent_path().parent_path() / "lib" / "motionpref" /
           ("libmotionpref-cli-" + name + ".so");
}

const CommandLibrary &loadCommandLibrary(const std::filesystem::path &file)
{
    static std::map<std::filesystem::path, const CommandLibrary *> loaded;
    if (auto it = loaded.find(file); it != loaded.end())
        return *it->second;
    if (!std::filesystem::exists(file))
        throw std::runtime_error("the command library " + file.string() +
                                 " is missing (a broken installation or build)");
    // Never closed: the commands' static objects live until the process ends.
    void *handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        throw std::runtime_error("cannot load the command library " + file.string() + ": " +
                                 ::dlerror());
    const auto *library =
        static_cast<const CommandLibrary *>(::dlsym(handle, kCommandLibrarySymbol));
    if (!library)
        throw std::runtime_error(file.string() + " is not a motionpref-cli command library (no " +
                                 kCommandLibrarySymbol + ")");
    if (library->interfaceVersion != kCommandLibraryInterface)
        throw std::runtime_error(file.string() + " is from another build of motionpref-cli " +
                                 "(interface " + std::to_string(library->interfaceVersion) +
                                 ", expected " + std::to_string(kCommandLibraryInterface) + ")");
    loaded.emplace(file, library);
    return *library;
}

} // namespace mp::cli
