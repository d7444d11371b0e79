// How the compute thread pools of the executables wait. Compiled into each executable
// (mp_use_thread_policy in CMakeLists.txt), never into a library.
//
// libgomp's worker threads spin and the pthread OpenBLAS busy-yields while waiting for work; on
// a machine with other busy processes (a laptop, CI's `ctest -j`, two jobs at once) a spinning
// pool waits on descheduled threads and a generation or training step gets many times slower
// (measured: a worst-case pair 327 ms -> 107 ms, a tiny train-base 36 s -> 2 s). Both read their
// environment once, in their ELF initialisers, before main(): too early for setenv() in main(),
// and an executable's .preinit_array is too early too (libc's initialiser resets environ after
// it), while a library's initialiser cannot be ordered before libgomp's, which LibTorch pulls in.
//
// So the executable defines getenv() and secure_getenv(): the dynamic loader binds libgomp's and
// OpenBLAS's calls to the executable's definitions (it searches the executable first), and these
// answer OMP_WAIT_POLICY=PASSIVE and OPENBLAS_NUM_THREADS=1 (OpenBLAS's own pool would sit beside
// the OpenMP one: LibTorch parallelises around it) unless the environment sets either; every
// other name is looked up in environ as libc's getenv does. This replaces re-executing the program
// with the variables set, which cost a second start of LibTorch (about 0.4 s) per command.
// tests/e2e/cli_basics.sh checks it takes effect: OMP_DISPLAY_ENV=verbose shows libgomp's spin
// count 0, not its default 300000. The answers are not in environ, so a child process (a
// training job) gets them from its own executable, and a user's setting is passed on unchanged.
//
// These run inside other libraries' initialisers, before any of this program's static objects
// exist: plain C, no allocation.

#include <cstring>

#include <sys/auxv.h>
#include <unistd.h>

namespace {

const char *lookUp(const char *name)
{
    if (!name || !environ)
        return nullptr;
    const std::size_t length = std::strlen(name);
    for (char **entry = environ; *entry; ++entry)
        if (std::strncmp(*entry, name, length) == 0 && (*entry)[length] == '=')
            return *entry + length + 1;
    return nullptr;
}

const char *withThreadPolicy(const char *name)
{
    if (const char *value = lookUp(name))
        return value;
    if (!name || lookUp("OMP_WAIT_POLICY") || lookUp("OPENBLAS_NUM_THREADS"))
        return nullptr; // the environment decides
    if (std::strcmp(name, "OMP_WAIT_POLICY") == 0)
        return "PASSIVE";
    if (std::strcmp(name, "OPENBLAS_NUM_THREADS") == 0)
        return "1";
    return nullptr;
}

} // namespace

extern "C" {

char *getenv(const char *name) noexcept
{
    return const_cast<char *>(withThreadPolicy(name));
}

char *secure_getenv(const char *name) noexcept
{
    return getauxval(AT_SECURE) ? nullptr : getenv(name);
}

} // extern "C"
