#include "ml/core/memory_policy.h"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mp {

void keepFreedMemoryForReuse()
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    // Grow the heap in 64 MB steps rather than a page at a time.
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}

} // namespace mp
