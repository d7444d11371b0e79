#pragma once
// How a job's run ended, told from its run directory once the process is gone: the last
// events of events.jsonl say finished, failed (with the reason, e.g. a NaN loss) or stopped; a
// run whose events just stop was killed (by a signal, or by the kernel for want of memory); a
// directory that is no longer there was deleted or moved while the job ran. For the Train
// panel's message: what happened and what to do.

#include <QString>

namespace mp {

struct RunEnding {
    enum class Kind { Finished, Failed, Stopped, Killed, Missing };
    Kind kind = Kind::Killed;
    QString message; // one or two sentences naming the run directory
};

RunEnding readRunEnding(const QString &runDir);

} // namespace mp
