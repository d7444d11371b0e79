#include "ml/core/blas_threads.h"

#include <algorithm>
#include <cstring>

#include <dlfcn.h>
#include <unistd.h>

namespace mp {

namespace {

// Whether the environment itself names the variable: getenv cannot tell, as the executables'
// thread policy answers OPENBLAS_NUM_THREADS=1 when the environment is silent.
bool environmentSets(const char *name)
{
    const std::size_t length = std::strlen(name);
    for (char **entry = environ; entry != nullptr && *entry != nullptr; ++entry)
        if (std::strncmp(*entry, name, length) == 0 && (*entry)[length] == '=')
            return true;
    return false;
}

template <typename Function> Function *blasFunction(const char *name)
{
    return reinterpret_cast<Function *>(dlsym(RTLD_DEFAULT, name));
}

} // namespace

int useBlasThreads(int threads)
{
    const auto get = blasFunction<int()>("openblas_get_num_threads");
    const auto set = blasFunction<void(int)>("openblas_set_num_threads");
    if (get == nullptr || set == nullptr)
        return 1;
    if (!environmentSets("OPENBLAS_NUM_THREADS"))
        set(std::max(1, threads));
    return get();
}

} // namespace mp
