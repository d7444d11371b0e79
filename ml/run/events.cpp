#include "ml/run/events.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "ml/core/error.h"
#include "ml/core/json_read.h"

namespace mp {

namespace {

constexpr std::pair<EventType, std::string_view> kTypeNames[] = {
    {EventType::Step, "step"},
    {EventType::Eval, "eval"},
    {EventType::Checkpoint, "checkpoint"},
    {EventType::Warning, "warning"},
    {EventType::Spike, "spike"},
    {EventType::Done, "done"},
    {EventType::Failed, "failed"},
    {EventType::MotionMetrics, "motion_metrics"}};

bool isReserved(const std::string &key)
{
    return key == "type" || key == "step" || key == "epoch" || key == "time";
}

double nowSeconds()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

} // namespace

std::string_view eventTypeName(EventType type)
{
    for (const auto &[t, name] : kTypeNames) {
        if (t == type)
            return name;
    }
    return "step";
}

std::optional<EventType> parseEventType(std::string_view name)
{
    for (const auto &[t, n] : kTypeNames) {
        if (n == name)
            return t;
    }
    return std::nullopt;
}

std::string eventToJson(const Event &event)
{
    nlohmann::ordered_json j;
    j["type"] = std::string(eventTypeName(event.type));
    j["step"] = event.step;
    j["epoch"] = event.epoch;
    j["time"] = event.time;
    for (const auto &[name, value] : event.metrics) {
        if (isReserved(name))
            throw std::invalid_argument("event metric name '" + name + "' is reserved");
        if (std::isfinite(value))
            j[name] = value;
        else
            j[name] = nullptr; // JSON has no NaN/Inf
    }
    for (const auto &[name, value] : event.text) {
        if (isReserved(name))
            throw std::invalid_argument("event text name '" + name + "' is reserved");
        j[name] = value;
    }
    for (const auto &[name, values] : event.lists) {
        if (isReserved(name))
            throw std::invalid_argument("event list name '" + name + "' is reserved");
        auto &list = j[name] = nlohmann::ordered_json::array();
        for (double value : values)
            list.push_back(std::isfinite(value) ? nlohmann::ordered_json(value)
                                                : nlohmann::ordered_json(nullptr));
    }
    return j.dump();
}

Event eventFromJson(std::string_view line)
{
    nlohmann::json j;
    try {
        j = parseJsonLimited("event", line);
    } catch (const nlohmann::json::exception &e) {
        throw InputError(std::string("not JSON: ") + e.what());
    }
    if (!j.is_object())
        throw InputError("an event must be a JSON object");
    const auto typeIt = j.find("type");
    if (typeIt == j.end() || !typeIt->is_string())
        throw InputError("event without a \"type\" string");
    const auto type = parseEventType(typeIt->get<std::string>());
    if (!type)
        throw InputError("unknown event type '" + typeIt->get<std::string>() + "'");
    Event event;
    event.type = *type;
    for (const auto &[key, value] : j.items()) {
        if (key == "type")
            continue;
        if (key == "step") {
            if (!value.is_number())
                throw InputError("event \"step\" must be a number");
            event.step = value.get<std::int64_t>();
        } else if (key == "epoch" || key == "time") {
            if (!value.is_number())
                throw InputError("event \"" + key + "\" must be a number");
            (key == "epoch" ? event.epoch : event.time) = value.get<double>();
        } else if (value.is_number()) {
            event.metrics[key] = value.get<double>();
        } else if (value.is_null()) {
            event.metrics[key] = std::numeric_limits<double>::quiet_NaN();
        } else if (value.is_boolean()) {
            event.metrics[key] = value.get<bool>() ? 1.0 : 0.0;
        } else if (value.is_string()) {
            event.text[key] = value.get<std::string>();
        } else if (value.is_array()) {
            std::vector<double> list;
            for (const auto &item : value) {
                if (!item.is_number() && !item.is_null())
                    throw InputError("event list \"" + key + "\" must hold numbers");
                list.push_back(item.is_number() ? item.get<double>()
                                                : std::numeric_limits<double>::quiet_NaN());
            }
            event.lists[key] = std::move(list);
        }
        // Objects are reserved for later versions and ignored.
    }
    return event;
}

EventWriter::EventWriter(std::filesystem::path path) : m_path(std::move(path))
{
    bool needsNewline = false;
    std::error_code ec;
    if (std::filesystem::file_size(m_path, ec) > 0 && !ec) {
        std::ifstream in(m_path, std::ios::binary);
        in.seekg(-1, std::ios::end);
        char last = '\n';
        in.get(last);
        needsNewline = last != '\n';
    }
    m_file = std::fopen(m_path.c_str(), "ab");
    if (!m_file)
        throw InputError(m_path.string() + ": cannot open for writing events");
    if (needsNewline) {
        std::fputc('\n', m_file);
        std::fflush(m_file);
    }
}

EventWriter::EventWriter(std::filesystem::path path, Discard) : m_path(std::move(path))
{
}

EventWriter EventWriter::discarding(std::filesystem::path path)
{
    return EventWriter(std::move(path), Discard{});
}

EventWriter::~EventWriter()
{
    if (m_file) {
        std::fflush(m_file);
        ::fsync(::fileno(m_file));
        std::fclose(m_file);
    }
}

void EventWriter::write(Event event)
{
    if (!m_file)
        return;
    if (event.time == 0.0)
        event.time = nowSeconds();
    const std::string line = eventToJson(event) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), m_file) != line.size() || std::fflush(m_file) != 0)
        throw std::runtime_error(m_path.string() + ": cannot append an event");
    if (event.type == EventType::Checkpoint || event.type == EventType::Done ||
        event.type == EventType::Failed)
        sync();
}

void EventWriter::sync()
{
    if (!m_file)
        return;
    std::fflush(m_file);
    ::fsync(::fileno(m_file));
}

EventReader::EventReader(std::filesystem::path path) : m_path(std::move(path))
{
}

std::vector<Event> EventReader::poll()
{
    std::vector<Event> events;
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(m_path, ec);
    if (ec)
        return events; // not created yet
    if (size < m_offset) {
        m_offset = 0;
        m_lineNumber = 0;
    }
    if (size == m_offset)
        return events;
    std::ifstream in(m_path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(m_offset));
    std::string chunk(static_cast<size_t>(size - m_offset), '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<size_t>(in.gcount()));

    size_t start = 0;
    for (size_t newline = chunk.find('\n'); newline != std::string::npos;
         newline = chunk.find('\n', start)) {
        std::string_view line(chunk.data() + start, newline - start);
        ++m_lineNumber;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (!line.empty()) {
            try {
                events.push_back(eventFromJson(line));
            } catch (const InputError &e) {
                ++m_malformed;
                m_lastError =
                    m_path.string() + ": line " + std::to_string(m_lineNumber) + ": " + e.what();
            }
        }
        start = newline + 1;
    }
    m_offset += start; // a partial last line is read again next time
    return events;
}

std::vector<Event> readEvents(const std::filesystem::path &path)
{
    if (!std::filesystem::exists(path))
        throw InputError(path.string() + ": no such file");
    EventReader reader(path);
    return reader.poll();
}

} // namespace mp
