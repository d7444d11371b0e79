#pragma once
// The motionpref-cli command table. Each cmd_*.cpp registers its commands with a static
// CommandRegistration in a command library (libmotionpref-cli-*.so, command_library.h);
// main.cpp parses the global options once and dispatches, loading the library only to run.
// Free of LibTorch and Qt: the thin executable compiles this file, with the libraries' tables
// copied in at build time (command_table.cpp), so --help and the command list load neither.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mp::cli {

struct OptionSpec {
    std::string name;      // without the leading "--"
    std::string valueName; // empty for a flag
    std::string help;
    std::string defaultValue; // shown in --help; "" for none
};

class ParsedArgs;
struct Context; // context.h: the compute device and the global options a command runs with

struct CommandSpec {
    std::string path;        // "motion info"
    std::string summary;     // one line for the command list
    std::string usage;       // positional part, e.g. "FILE"
    std::string description; // shown in the command's --help, may be several lines
    std::vector<OptionSpec> options;
    bool usesTorch = true; // whether --device matters
    // The command library that implements it (libmotionpref-cli-LIBRARY.so); set by the
    // library's registry, never written in a CommandSpec.
    std::string library;
    std::function<int(const ParsedArgs &, const Context &)> run;
};

// Parsed options and positionals of one invocation, checked against the command's OptionSpecs.
class ParsedArgs {
public:
    ParsedArgs(const CommandSpec &spec, const std::vector<std::string> &tokens);

    bool has(const std::string &name) const;
    bool flag(const std::string &name) const { return has(name); }
    std::string value(const std::string &name) const;    // default from spec, "" if none
    std::string required(const std::string &name) const; // InputError when missing
    std::optional<std::string> optional(const std::string &name) const;
    // Every value of an option given several times (--ab a.json --ab b.json), in order;
    // value() and optional() give the last.
    std::vector<std::string> values(const std::string &name) const;
    long long intValue(const std::string &name) const; // InputError when not an integer
    double doubleValue(const std::string &name) const; // InputError when not a number
    const std::vector<std::string> &positional() const { return m_positional; }
    const std::string &positional(std::size_t index, const std::string &what) const;

private:
    const CommandSpec &m_spec;
    std::map<std::string, std::string> m_values;
    std::map<std::string, std::vector<std::string>> m_repeated;
    std::vector<std::string> m_positional;
};

class Registry {
public:
    static Registry &instance();
    void add(CommandSpec spec);
    const std::vector<CommandSpec> &commands() const { return m_commands; }
    // The command whose path matches the longest prefix of args; sets consumed words.
    const CommandSpec *find(const std::vector<std::string> &args, std::size_t &consumed) const;

private:
    std::vector<CommandSpec> m_commands;
};

struct CommandRegistration {
    explicit CommandRegistration(CommandSpec spec) { Registry::instance().add(std::move(spec)); }
};

std::string helpText(const CommandSpec &spec);

// Runs BODY and turns what it throws into motionpref-cli's contract: one line on stderr,
// exit 1 for an input error or a cancellation, 2 for an internal error.
int runReportingErrors(const std::function<int()> &body);

} // namespace mp::cli
