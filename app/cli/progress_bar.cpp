#include "app/cli/progress_bar.h"

#include <chrono>
#include <cstdio>
#include <memory>

#include <unistd.h>

namespace mp::cli {

namespace {

struct BarState {
    std::string label;
    std::string lastStage; // pipes and log files get a line per stage and per tenth
    int lastTenth = -1;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point lastDraw{};
};

} // namespace

ProgressFn makeProgressBar(const Context &context, std::string label)
{
    if (context.quiet)
        return {};
    auto state = std::make_shared<BarState>();
    state->label = std::move(label);
    // A terminal gets a bar redrawn in place; a pipe or a log file gets plain lines, without
    // carriage returns and escape sequences.
    const bool terminal = isatty(STDERR_FILENO) != 0;
    return [state, terminal](std::int64_t done, std::int64_t total, std::string_view stage) {
        using namespace std::chrono;
        const auto now = steady_clock::now();
        const bool finished = total > 0 && done >= total;
        if (!terminal) {
            const int tenth = total > 0 ? static_cast<int>(10 * done / total) : 0;
            if (stage == state->lastStage && tenth == state->lastTenth && !finished)
                return true;
            if (finished && state->lastTenth == 10)
                return true;
            state->lastStage = std::string(stage);
            state->lastTenth = tenth;
            std::fprintf(stderr, "%s %lld/%lld %.0fs %.*s\n", state->label.c_str(),
                         static_cast<long long>(done), static_cast<long long>(total),
                         duration<double>(now - state->start).count(),
                         static_cast<int>(stage.size()), stage.data());
            std::fflush(stderr);
            return true;
        }
        // Redraw at most 10 times a second; always draw the final state.
        if (!finished && now - state->lastDraw < milliseconds(100))
            return true;
        state->lastDraw = now;
        const double fraction = total > 0 ? double(done) / double(total) : 0.0;
        const int width = 30;
        const int filled = static_cast<int>(fraction * width);
        const double elapsedS = duration<double>(now - state->start).count();
        std::fprintf(stderr, "\r%s [%-*s] %lld/%lld %.0fs %.*s\033[K", state->label.c_str(), width,
                     std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     static_cast<long long>(done), static_cast<long long>(total), elapsedS,
                     static_cast<int>(stage.size()), stage.data());
        if (finished)
            std::fputc('\n', stderr);
        std::fflush(stderr);
        return true;
    };
}

} // namespace mp::cli
