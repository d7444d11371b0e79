#include "app/cli/command.h"

#include "ml/core/error.h"
#include "ml/core/error_message.h"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <sstream>

namespace mp::cli {

namespace {

const OptionSpec *findOption(const CommandSpec &spec, const std::string &name)
{
    for (const auto &option : spec.options)
        if (option.name == name)
            return &option;
    return nullptr;
}

// The error as one line of text: a message may quote bytes of a damaged file (a BVH token, a
// TorchScript excerpt), and control characters there would break the one-line contract or the
// terminal. Each is shown as '?'. A huge quote is cut (shortenedMessage).
std::string oneLine(std::string message)
{
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
        message.pop_back();
    message = shortenedMessage(std::move(message));
    for (char &c : message)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    return message;
}

} // namespace

ParsedArgs::ParsedArgs(const CommandSpec &spec, const std::vector<std::string> &tokens)
    : m_spec(spec)
{
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::string &token = tokens[i];
        if (token.size() > 2 && token.starts_with("--")) {
            std::string name = token.substr(2);
            std::optional<std::string> inlineValue;
            if (const auto eq = name.find('='); eq != std::string::npos) {
                inlineValue = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            const OptionSpec *option = findOption(spec, name);
            if (!option)
                throw InputError("unknown option --" + name + " for '" + spec.path +
                                 "' (see motionpref-cli " + spec.path + " --help)");
            if (option->valueName.empty()) {
                if (inlineValue)
                    throw InputError("option --" + name + " takes no value");
                m_values[name] = "1";
            } else if (inlineValue) {
                m_values[name] = *inlineValue;
            } else {
                if (i + 1 >= tokens.size())
                    throw InputError("option --" + name + " needs a value (" + option->valueName +
                                     ")");
                m_values[name] = tokens[++i];
            }
            if (!option->valueName.empty())
                m_repeated[name].push_back(m_values[name]);
        } else {
            m_positional.push_back(token);
        }
    }
}

bool ParsedArgs::has(const std::string &name) const
{
    return m_values.contains(name);
}

std::string ParsedArgs::value(const std::string &name) const
{
    if (auto it = m_values.find(name); it != m_values.end())
        return it->second;
    if (const OptionSpec *option = findOption(m_spec, name))
        return option->defaultValue;
    return {};
}

std::optional<std::string> ParsedArgs::optional(const std::string &name) const
{
    if (auto it = m_values.find(name); it != m_values.end())
        return it->second;
    return std::nullopt;
}

std::vector<std::string> ParsedArgs::values(const std::string &name) const
{
    if (auto it = m_repeated.find(name); it != m_repeated.end())
        return it->second;
    return {};
}

std::string ParsedArgs::required(const std::string &name) const
{
    auto found = optional(name);
    if (!found || found->empty())
        throw InputError("'" + m_spec.path + "' needs --" + name);
    return *found;
}

long long ParsedArgs::intValue(const std::string &name) const
{
    const std::string text = value(name);
    long long parsed = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
        throw InputError("--" + name + " '" + text + "': expected an integer");
    return parsed;
}

double ParsedArgs::doubleValue(const std::string &name) const
{
    const std::string text = value(name);
    double parsed = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
        throw InputError("--" + name + " '" + text + "': expected a number");
    return parsed;
}

const std::string &ParsedArgs::positional(std::size_t index, const std::string &what) const
{
    if (index >= m_positional.size())
        throw InputError("'" + m_spec.path + "' needs " + what + " (usage: motionpref-cli " +
                         m_spec.path + " " + m_spec.usage + ")");
    return m_positional[index];
}

Registry &Registry::instance()
{
    static Registry registry;
    return registry;
}

void Registry::add(CommandSpec spec)
{
    m_commands.push_back(std::move(spec));
    std::sort(m_commands.begin(), m_commands.end(),
              [](const CommandSpec &a, const CommandSpec &b) { return a.path < b.path; });
}

const CommandSpec *Registry::find(const std::vector<std::string> &args, std::size_t &consumed) const
{
    const CommandSpec *best = nullptr;
    std::size_t bestWords = 0;
    for (const auto &command : m_commands) {
        std::istringstream words(command.path);
        std::string word;
        std::size_t matched = 0;
        bool ok = true;
        while (words >> word) {
            if (matched >= args.size() || args[matched] != word) {
                ok = false;
                break;
            }
            ++matched;
        }
        if (ok && matched > bestWords) {
            best = &command;
            bestWords = matched;
        }
    }
    consumed = bestWords;
    return best;
}

std::string helpText(const CommandSpec &spec)
{
    std::ostringstream out;
    out << "usage: motionpref-cli " << spec.path;
    if (!spec.options.empty())
        out << " [options]";
    if (!spec.usage.empty())
        out << " " << spec.usage;
    out << "\n\n" << spec.summary << "\n";
    if (!spec.description.empty())
        out << "\n" << spec.description << "\n";
    if (!spec.options.empty()) {
        out << "\noptions:\n";
        for (const auto &option : spec.options) {
            std::string left = "  --" + option.name;
            if (!option.valueName.empty())
                left += " " + option.valueName;
            out << left;
            out << std::string(left.size() < 28 ? 28 - left.size() : 2, ' ') << option.help;
            if (!option.defaultValue.empty())
                out << " (default " << option.defaultValue << ")";
            out << "\n";
        }
    }
    if (spec.usesTorch)
        out << "  --device auto|cpu|cuda      compute device (default auto)\n";
    return out.str();
}

int runReportingErrors(const std::function<int()> &body)
{
    try {
        return body();
    } catch (const InputError &e) {
        std::cerr << "motionpref-cli: error: " << oneLine(e.what()) << "\n";
        return 1;
    } catch (const Cancelled &) {
        std::cerr << "motionpref-cli: cancelled\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "motionpref-cli: internal error: " << oneLine(e.what()) << "\n";
        return 2;
    }
}

} // namespace mp::cli
