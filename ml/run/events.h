#pragma once
// The run directory's event stream, events.jsonl: one JSON object per line,
//   {"type":"step","step":12,"epoch":0.5,"time":1732455123.4,"loss":0.69,"rewards/chosen":0.1}
// Numbers are metrics (NaN/Inf are written as null and read back as NaN), strings are text
// fields ("reason", "path", "message", "metric"), arrays of numbers are lists (the per-replication
// values of a motion_metrics event). The trainer appends and flushes each event; the
// GUI's job runner reads the file as it grows.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ml/train/metrics.h"

namespace mp {

// MotionMetrics: the HumanML3D metrics of the policy at an epoch end (eval.motion_metrics),
// "motion/FID" the mean, "motion/FID/ci" the 95% half-width, "motion/FID/values" the list.
enum class EventType { Step, Eval, Checkpoint, Warning, Spike, Done, Failed, MotionMetrics };

std::string_view eventTypeName(EventType type);
std::optional<EventType> parseEventType(std::string_view name);

struct Event {
    EventType type = EventType::Step;
    std::int64_t step = 0;
    double epoch = 0.0;
    double time = 0.0; // seconds since the Unix epoch; EventWriter stamps it when 0
    MetricMap metrics;
    std::map<std::string, std::string> text;
    std::map<std::string, std::vector<double>> lists;
};

// One line of JSON, without the newline. Metric or text names equal to "type", "step", "epoch"
// or "time" are a programming error (std::invalid_argument).
std::string eventToJson(const Event &event);
// Throws InputError naming the problem when the line is not an event object.
Event eventFromJson(std::string_view line);

// Appends events to a file, flushing after each and fsync-ing after checkpoint, done and failed
// events (so a killed run keeps what it reported up to its last checkpoint).
class EventWriter {
public:
    // Opens for append, creating the file; a partial last line left by a killed writer is ended
    // first so the next event starts on its own line. InputError when it cannot be opened.
    explicit EventWriter(std::filesystem::path path);
    // A writer that opens nothing and drops every event: a data-parallel rank other than 0,
    // which runs the same loop as rank 0 but leaves the run directory to it.
    static EventWriter discarding(std::filesystem::path path);
    ~EventWriter();
    EventWriter(const EventWriter &) = delete;
    EventWriter &operator=(const EventWriter &) = delete;

    void write(Event event);
    void sync();
    const std::filesystem::path &path() const { return m_path; }

private:
    struct Discard {};
    EventWriter(std::filesystem::path path, Discard);

    std::filesystem::path m_path;
    std::FILE *m_file = nullptr;
};

// Reads a possibly still growing events.jsonl incrementally: each poll() returns the events of
// the complete lines added since the last poll; a partial last line waits for its newline.
// Malformed complete lines are skipped and counted. A file that shrank is read again from the
// start (a new run in the same directory).
class EventReader {
public:
    explicit EventReader(std::filesystem::path path);

    std::vector<Event> poll();
    std::int64_t malformedLines() const { return m_malformed; }
    std::string lastError() const { return m_lastError; }
    const std::filesystem::path &path() const { return m_path; }

private:
    std::filesystem::path m_path;
    std::uintmax_t m_offset = 0;
    std::int64_t m_malformed = 0;
    std::int64_t m_lineNumber = 0;
    std::string m_lastError;
};

// Reads a whole file once (for a finished run).
std::vector<Event> readEvents(const std::filesystem::path &path);

} // namespace mp
