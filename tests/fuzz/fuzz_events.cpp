// events.jsonl (ml/run/events): the reader the Train panel and the job runner follow.
#include "ml/run/events.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    return mp::fuzz::run([&] {
        const auto path = mp::fuzz::writeScratch("events.jsonl", mp::fuzz::text(data, size));
        for (const auto &event : mp::readEvents(path))
            mp::eventToJson(event);
    });
}
