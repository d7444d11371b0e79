#include "ml/data/pickle_value.h"

#include "ml/core/error.h"

#include <charconv>

namespace mp {

PickleValue PickleValue::fromBool(bool value)
{
    return {Kind::Bool, value};
}
PickleValue PickleValue::fromInt(std::int64_t value)
{
    return {Kind::Int, value};
}
PickleValue PickleValue::fromFloat(double value)
{
    return {Kind::Float, value};
}
PickleValue PickleValue::fromString(std::string value)
{
    return {Kind::String, std::move(value)};
}
PickleValue PickleValue::fromBytes(std::string value)
{
    return {Kind::Bytes, std::move(value)};
}
PickleValue PickleValue::bigInt(std::string bytes)
{
    return {Kind::BigInt, std::move(bytes)};
}
PickleValue PickleValue::newList()
{
    return {Kind::List, std::make_shared<List>()};
}
PickleValue PickleValue::newTuple(List items)
{
    return {Kind::Tuple, std::make_shared<List>(std::move(items))};
}
PickleValue PickleValue::newDict()
{
    return {Kind::Dict, std::make_shared<Items>()};
}
PickleValue PickleValue::tensor(PickleTensor tensor)
{
    return {Kind::Tensor, std::make_shared<const PickleTensor>(std::move(tensor))};
}
PickleValue PickleValue::storage(PickleStorage storage)
{
    return {Kind::Storage, std::make_shared<const PickleStorage>(std::move(storage))};
}
PickleValue PickleValue::global(std::string name)
{
    return {Kind::Global, std::move(name)};
}
PickleValue PickleValue::skipped(std::string what)
{
    return {Kind::Skipped, std::move(what)};
}

const char *PickleValue::kindName(Kind kind)
{
    switch (kind) {
    case Kind::None:
        return "None";
    case Kind::Bool:
        return "a bool";
    case Kind::Int:
        return "an int";
    case Kind::BigInt:
        return "an int beyond 64 bits";
    case Kind::Float:
        return "a float";
    case Kind::String:
        return "a string";
    case Kind::Bytes:
        return "bytes";
    case Kind::List:
        return "a list";
    case Kind::Tuple:
        return "a tuple";
    case Kind::Dict:
        return "a dict";
    case Kind::Tensor:
        return "a tensor";
    case Kind::Storage:
        return "a storage";
    case Kind::Global:
        return "a class or function reference";
    case Kind::Skipped:
        return "a skipped object";
    }
    return "?";
}

namespace {

[[noreturn]] void wrongKind(const char *expected, PickleValue::Kind found)
{
    throw InputError(std::string("expected ") + expected + ", found " +
                     PickleValue::kindName(found));
}

} // namespace

bool PickleValue::toBool() const
{
    if (m_kind != Kind::Bool)
        wrongKind("a bool", m_kind);
    return std::get<bool>(m_payload);
}

std::int64_t PickleValue::toInt() const
{
    if (m_kind != Kind::Int)
        wrongKind("an int", m_kind);
    return std::get<std::int64_t>(m_payload);
}

double PickleValue::toFloat() const
{
    if (m_kind == Kind::Int)
        return static_cast<double>(std::get<std::int64_t>(m_payload));
    if (m_kind != Kind::Float)
        wrongKind("a float", m_kind);
    return std::get<double>(m_payload);
}

const std::string &PickleValue::toString() const
{
    if (!std::holds_alternative<std::string>(m_payload))
        wrongKind("a string", m_kind);
    return std::get<std::string>(m_payload);
}

const PickleValue::List &PickleValue::toList() const
{
    if (m_kind != Kind::List && m_kind != Kind::Tuple)
        wrongKind("a list or tuple", m_kind);
    return *std::get<std::shared_ptr<List>>(m_payload);
}

const PickleValue::Items &PickleValue::toDict() const
{
    if (m_kind != Kind::Dict)
        wrongKind("a dict", m_kind);
    return *std::get<std::shared_ptr<Items>>(m_payload);
}

const PickleTensor &PickleValue::toTensor() const
{
    if (m_kind != Kind::Tensor)
        wrongKind("a tensor", m_kind);
    return *std::get<std::shared_ptr<const PickleTensor>>(m_payload);
}

const PickleStorage &PickleValue::toStorage() const
{
    if (m_kind != Kind::Storage)
        wrongKind("a storage", m_kind);
    return *std::get<std::shared_ptr<const PickleStorage>>(m_payload);
}

PickleValue::List &PickleValue::mutableList()
{
    if (m_kind != Kind::List && m_kind != Kind::Tuple)
        wrongKind("a list", m_kind);
    return *std::get<std::shared_ptr<List>>(m_payload);
}

const void *PickleValue::container() const
{
    if (m_kind == Kind::List || m_kind == Kind::Tuple)
        return std::get<std::shared_ptr<List>>(m_payload).get();
    if (m_kind == Kind::Dict)
        return std::get<std::shared_ptr<Items>>(m_payload).get();
    return nullptr;
}

PickleValue::Items &PickleValue::mutableDict()
{
    if (m_kind != Kind::Dict)
        wrongKind("a dict", m_kind);
    return *std::get<std::shared_ptr<Items>>(m_payload);
}

const PickleValue *PickleValue::find(std::string_view key) const
{
    if (m_kind != Kind::Dict)
        return nullptr;
    for (const auto &[k, v] : toDict())
        if (k.is(Kind::String) && k.toString() == key)
            return &v;
    return nullptr;
}

namespace {

// A dict key as a path element: strings as they are, ints in decimal, anything else by kind.
std::string keyText(const PickleValue &key)
{
    if (key.is(PickleValue::Kind::String))
        return key.toString();
    if (key.is(PickleValue::Kind::Int))
        return std::to_string(key.toInt());
    return std::string("<") + PickleValue::kindName(key.kind()) + ">";
}

std::string join(const std::string &path, const std::string &name)
{
    return path.empty() ? name : path + "/" + name;
}

// The unpickler has bounded the depth and broken cycles, so plain recursion is safe here.
void collectSkipped(const PickleValue &value, const std::string &path,
                    std::vector<SkippedObject> &out)
{
    switch (value.kind()) {
    case PickleValue::Kind::Skipped:
    case PickleValue::Kind::Global:
        out.push_back({path, value.toString()});
        return;
    case PickleValue::Kind::List:
    case PickleValue::Kind::Tuple: {
        const auto &items = value.toList();
        for (std::size_t i = 0; i < items.size(); ++i)
            collectSkipped(items[i], join(path, std::to_string(i)), out);
        return;
    }
    case PickleValue::Kind::Dict:
        for (const auto &[key, item] : value.toDict()) {
            collectSkipped(key, join(path, keyText(key)), out);
            collectSkipped(item, join(path, keyText(key)), out);
        }
        return;
    default:
        return;
    }
}

} // namespace

std::vector<SkippedObject> findSkipped(const PickleValue &root)
{
    std::vector<SkippedObject> out;
    collectSkipped(root, "", out);
    return out;
}

const PickleValue *findPath(const PickleValue &root, std::string_view path)
{
    const PickleValue *at = &root;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto name = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
        if (at->is(PickleValue::Kind::Dict)) {
            const PickleValue *next = nullptr;
            for (const auto &[key, item] : at->toDict())
                if (keyText(key) == name)
                    next = &item;
            at = next;
        } else if (at->is(PickleValue::Kind::List) || at->is(PickleValue::Kind::Tuple)) {
            std::size_t index = 0;
            const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
            const auto &items = at->toList();
            at = ec == std::errc() && end == name.data() + name.size() && index < items.size()
                     ? &items[index]
                     : nullptr;
        } else {
            at = nullptr;
        }
        if (!at)
            return nullptr;
    }
    return at;
}

} // namespace mp
