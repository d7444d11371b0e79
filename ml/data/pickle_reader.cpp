#include "ml/data/pickle_reader.h"

#include "ml/core/error.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace mp {

namespace {

using Kind = PickleValue::Kind;

// Tensors of more dimensions than this are refused (PyTorch allows 64 too).
constexpr std::size_t kMaxTensorDims = 64;

// The storage types torch.save names in a persistent id, and the dtype of their elements.
const std::unordered_map<std::string, at::ScalarType> &storageTypes()
{
    static const std::unordered_map<std::string, at::ScalarType> types = {
        {"FloatStorage", at::kFloat},
        {"DoubleStorage", at::kDouble},
        {"HalfStorage", at::kHalf},
        {"BFloat16Storage", at::kBFloat16},
        {"LongStorage", at::kLong},
        {"IntStorage", at::kInt},
        {"ShortStorage", at::kShort},
        {"CharStorage", at::kChar},
        {"ByteStorage", at::kByte},
        {"BoolStorage", at::kBool},
        {"ComplexFloatStorage", at::kComplexFloat},
        {"ComplexDoubleStorage", at::kComplexDouble},
        {"UntypedStorage", at::kByte}, // torch >= 2.0: bytes, the dtype comes with the tensor
        {"_UntypedStorage", at::kByte},
    };
    return types;
}

// torch.<dtype> globals (_rebuild_tensor_v3's dtype argument) that LibTorch 1.13 has.
const std::unordered_map<std::string, at::ScalarType> &dtypeGlobals()
{
    static const std::unordered_map<std::string, at::ScalarType> types = {
        {"torch.float32", at::kFloat},
        {"torch.float64", at::kDouble},
        {"torch.float16", at::kHalf},
        {"torch.bfloat16", at::kBFloat16},
        {"torch.int64", at::kLong},
        {"torch.int32", at::kInt},
        {"torch.int16", at::kShort},
        {"torch.int8", at::kChar},
        {"torch.uint8", at::kByte},
        {"torch.bool", at::kBool},
        {"torch.complex64", at::kComplexFloat},
        {"torch.complex128", at::kComplexDouble},
    };
    return types;
}

// "torch.FloatStorage", "torch.cuda.FloatStorage", "torch.storage.UntypedStorage" -> dtype.
const at::ScalarType *storageDtype(const std::string &global)
{
    const bool torchModule = global.rfind("torch.", 0) == 0;
    const auto dot = global.rfind('.');
    if (!torchModule || dot == std::string::npos)
        return nullptr;
    const auto it = storageTypes().find(global.substr(dot + 1));
    return it == storageTypes().end() ? nullptr : &it->second;
}

class Unpickler {
public:
    Unpickler(const std::uint8_t *data, std::size_t size, std::size_t begin, std::string source,
              const PickleOptions &options)
        : m_data(data), m_size(size), m_pos(begin), m_source(std::move(source)), m_options(options)
    {
    }

    PickleResult run()
    {
        PickleValue value;
        try {
            value = loop();
            std::size_t visits = 0;
            std::unordered_set<const void *> reachable;
            check(value, 0, visits, reachable);
            freeContainers(reachable);
        } catch (...) {
            freeContainers({});
            throw;
        }
        return {std::move(value), m_pos, std::move(m_storages)};
    }

private:
    [[noreturn]] void fail(const std::string &what) const
    {
        throw InputError(m_source + ": pickle at byte " + std::to_string(m_opStart) + ": " + what);
    }

    // ---- reading bytes, bounded by the input ----
    const std::uint8_t *take(std::size_t n)
    {
        if (n > m_size - m_pos)
            fail("truncated (needs " + std::to_string(n) + " more bytes, " +
                 std::to_string(m_size - m_pos) + " left)");
        const auto *p = m_data + m_pos;
        m_pos += n;
        return p;
    }
    template <typename T> T readLe()
    {
        T value;
        std::memcpy(&value, take(sizeof(T)), sizeof(T));
        if constexpr (std::endian::native == std::endian::big)
            value = byteswap(value);
        return value;
    }
    template <typename T> static T byteswap(T value)
    {
        auto *b = reinterpret_cast<std::uint8_t *>(&value);
        for (std::size_t i = 0; i < sizeof(T) / 2; ++i)
            std::swap(b[i], b[sizeof(T) - 1 - i]);
        return value;
    }
    std::string readString(std::uint64_t n)
    {
        if (n > m_size - m_pos)
            fail("a string of " + std::to_string(n) + " bytes runs past the end");
        const auto *p = take(static_cast<std::size_t>(n));
        return {reinterpret_cast<const char *>(p), static_cast<std::size_t>(n)};
    }
    std::string readLine()
    {
        const auto start = m_pos;
        while (m_pos < m_size && m_data[m_pos] != '\n')
            ++m_pos;
        if (m_pos >= m_size)
            fail("a text argument runs past the end");
        std::string line(reinterpret_cast<const char *>(m_data + start), m_pos - start);
        ++m_pos;
        return line;
    }

    // ---- the stack ----
    void push(PickleValue value)
    {
        if (++m_objects > m_options.maxObjects)
            fail("more than " + std::to_string(m_options.maxObjects) + " objects");
        if (value.container())
            m_containers.push_back(value);
        m_stack.push_back(std::move(value));
    }
    PickleValue pop()
    {
        if (stackBase() >= m_stack.size())
            fail("stack underflow");
        PickleValue value = std::move(m_stack.back());
        m_stack.pop_back();
        return value;
    }
    PickleValue &top()
    {
        if (stackBase() >= m_stack.size())
            fail("stack underflow");
        return m_stack.back();
    }
    std::size_t stackBase() const { return m_marks.empty() ? 0 : m_marks.back(); }
    // The values above the last MARK, which is removed.
    PickleValue::List popMark()
    {
        if (m_marks.empty())
            fail("no MARK on the stack");
        const auto mark = m_marks.back();
        m_marks.pop_back();
        PickleValue::List items(std::make_move_iterator(m_stack.begin() + mark),
                                std::make_move_iterator(m_stack.end()));
        m_stack.resize(mark);
        return items;
    }

    void memoPut(std::uint64_t index)
    {
        if (m_memo.size() >= m_options.maxObjects)
            fail("memo too large");
        m_memo[index] = top();
    }
    void memoGet(std::uint64_t index)
    {
        const auto it = m_memo.find(index);
        if (it == m_memo.end())
            fail("memo entry " + std::to_string(index) + " was never stored");
        push(it->second);
    }

    // ---- containers ----
    void append(PickleValue &target, PickleValue::List items)
    {
        if (target.is(Kind::Skipped))
            return; // a list-like object we do not build
        if (!target.is(Kind::List))
            fail(std::string("APPEND to ") + PickleValue::kindName(target.kind()));
        auto &list = target.mutableList();
        for (auto &item : items)
            list.push_back(std::move(item));
    }
    void setItems(PickleValue &target, PickleValue::List items)
    {
        if (items.size() % 2 != 0)
            fail("SETITEMS with an odd number of values");
        if (target.is(Kind::Skipped))
            return; // a dict subclass we do not build (Lightning's AttributeDict)
        if (!target.is(Kind::Dict))
            fail(std::string("SETITEM on ") + PickleValue::kindName(target.kind()));
        auto &dict = target.mutableDict();
        for (std::size_t i = 0; i < items.size(); i += 2) {
            bool replaced = false;
            // Python dict semantics for the keys a checkpoint uses (str, int).
            if (items[i].is(Kind::String) || items[i].is(Kind::Int))
                for (auto &[key, value] : dict)
                    if (sameKey(key, items[i])) {
                        value = std::move(items[i + 1]);
                        replaced = true;
                        break;
                    }
            if (!replaced)
                dict.emplace_back(std::move(items[i]), std::move(items[i + 1]));
        }
    }
    static bool sameKey(const PickleValue &a, const PickleValue &b)
    {
        if (a.kind() != b.kind())
            return false;
        return a.is(Kind::String) ? a.toString() == b.toString() : a.toInt() == b.toInt();
    }

    // ---- globals: known names build values, everything else is a placeholder ----
    PickleValue call(const PickleValue &callable, const PickleValue &argsValue)
    {
        if (callable.is(Kind::Skipped))
            return callable;
        if (!callable.is(Kind::Global))
            fail(std::string("REDUCE on ") + PickleValue::kindName(callable.kind()));
        const auto &name = callable.toString();
        if (!argsValue.is(Kind::Tuple))
            return PickleValue::skipped(name);
        const auto &args = argsValue.toList();
        if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
            return rebuildTensor(args, std::nullopt);
        if (name == "torch._utils._rebuild_tensor_v3") {
            if (args.size() < 7 || !args[6].is(Kind::Global))
                fail("_rebuild_tensor_v3 needs 7 arguments ending with a dtype");
            const auto it = dtypeGlobals().find(args[6].toString());
            if (it == dtypeGlobals().end())
                return PickleValue::skipped("a tensor of dtype " + args[6].toString() +
                                            " (not in LibTorch 1.13)");
            return rebuildTensor(args, it->second);
        }
        if (name == "torch._utils._rebuild_parameter" ||
            name == "torch._utils._rebuild_parameter_with_state") {
            if (args.empty())
                fail(name + " without arguments");
            return args[0];
        }
        if (name == "torch._tensor._rebuild_from_type_v2") {
            // (func, type, args, state): a plain Tensor or Parameter is func(*args).
            if (args.size() < 3 || !args[1].is(Kind::Global))
                fail("_rebuild_from_type_v2 needs (func, type, args, state)");
            const auto &type = args[1].toString();
            if (type != "torch.Tensor" && type != "torch.nn.parameter.Parameter")
                return PickleValue::skipped(type);
            return call(args[0], args[2]);
        }
        if (name == "collections.OrderedDict" || name == "builtins.dict") {
            auto dict = PickleValue::newDict();
            if (!args.empty() && (args[0].is(Kind::List) || args[0].is(Kind::Tuple))) {
                PickleValue::List flat;
                for (const auto &pair : args[0].toList()) {
                    if (!(pair.is(Kind::List) || pair.is(Kind::Tuple)) || pair.toList().size() != 2)
                        fail(name + " from something other than pairs");
                    flat.push_back(pair.toList()[0]);
                    flat.push_back(pair.toList()[1]);
                }
                setItems(dict, std::move(flat));
            }
            return dict;
        }
        if (name == "builtins.set" || name == "builtins.frozenset" || name == "builtins.list") {
            auto list = PickleValue::newList();
            if (!args.empty() && (args[0].is(Kind::List) || args[0].is(Kind::Tuple)))
                append(list, args[0].toList());
            return list;
        }
        if (name == "torch.Size" || name == "builtins.tuple")
            return args.size() == 1 && (args[0].is(Kind::List) || args[0].is(Kind::Tuple))
                       ? PickleValue::newTuple(args[0].toList())
                       : PickleValue::newTuple({});
        if (name == "torch.device" && !args.empty() && args[0].is(Kind::String))
            return args[0];
        if (name == "_codecs.encode" && args.size() == 2 && args[0].is(Kind::String)) {
            // Protocol 2 writes bytes b as _codecs.encode(b.decode('latin1'), 'latin1').
            std::string bytes;
            if (!latin1(args[0].toString(), bytes))
                fail("_codecs.encode of a character beyond latin-1");
            return PickleValue::fromBytes(std::move(bytes));
        }
        if ((name == "copyreg._reconstructor" || name == "copyreg.__newobj__") && !args.empty() &&
            args[0].is(Kind::Global))
            return PickleValue::skipped(args[0].toString()); // an object of that class
        if (name == "builtins.bytearray")
            return args.size() == 1 && args[0].is(Kind::Bytes) ? args[0]
                                                               : PickleValue::fromBytes({});
        return PickleValue::skipped(name);
    }

    static bool latin1(const std::string &utf8, std::string &out)
    {
        for (std::size_t i = 0; i < utf8.size(); ++i) {
            const auto c = static_cast<std::uint8_t>(utf8[i]);
            if (c < 0x80) {
                out.push_back(static_cast<char>(c));
            } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
                const auto next = static_cast<std::uint8_t>(utf8[++i]);
                out.push_back(static_cast<char>(((c & 0x03) << 6) | (next & 0x3F)));
            } else {
                return false;
            }
        }
        return true;
    }

    std::vector<std::int64_t> intTuple(const PickleValue &value, const char *what)
    {
        if (!value.is(Kind::Tuple) && !value.is(Kind::List))
            fail(std::string("tensor ") + what + " is " + PickleValue::kindName(value.kind()));
        const auto &items = value.toList();
        if (items.size() > kMaxTensorDims)
            fail(std::string("tensor ") + what + " has " + std::to_string(items.size()) +
                 " dimensions");
        std::vector<std::int64_t> out;
        for (const auto &item : items) {
            if (!item.is(Kind::Int) || item.toInt() < 0)
                fail(std::string("tensor ") + what + " holds a negative or non-integer value");
            out.push_back(item.toInt());
        }
        return out;
    }

    // (storage, storage_offset, size, stride, requires_grad, backward_hooks, ...); v3 passes the
    // dtype of an untyped (byte) storage.
    PickleValue rebuildTensor(const PickleValue::List &args, std::optional<at::ScalarType> dtype)
    {
        if (args.size() < 4)
            fail("a tensor rebuild with " + std::to_string(args.size()) + " arguments");
        if (args[0].is(Kind::Skipped))
            return args[0];
        if (!args[0].is(Kind::Storage))
            fail(std::string("a tensor rebuilt from ") + PickleValue::kindName(args[0].kind()));
        PickleTensor tensor;
        tensor.storage = args[0].toStorage();
        if (dtype) {
            const auto itemSize = static_cast<std::int64_t>(c10::elementSize(*dtype));
            if (tensor.storage.dtype != at::kByte || tensor.storage.numel % itemSize != 0)
                fail("_rebuild_tensor_v3 on a storage that is not whole elements of bytes");
            tensor.storage.dtype = *dtype;
            tensor.storage.numel /= itemSize;
        }
        if (!args[1].is(Kind::Int) || args[1].toInt() < 0)
            fail("tensor storage offset is not a non-negative int");
        tensor.storageOffset = args[1].toInt();
        tensor.sizes = intTuple(args[2], "size");
        tensor.strides = intTuple(args[3], "stride");
        if (tensor.sizes.size() != tensor.strides.size())
            fail("tensor size and stride differ in length");
        if (args.size() > 4 && args[4].is(Kind::Bool))
            tensor.requiresGrad = args[4].toBool();
        checkInside(tensor);
        return PickleValue::tensor(std::move(tensor));
    }

    // The last element the view touches must lie inside the storage (no overflow on the way).
    void checkInside(const PickleTensor &t)
    {
        constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
        std::int64_t last = t.storageOffset;
        for (std::size_t i = 0; i < t.sizes.size(); ++i) {
            if (t.sizes[i] == 0)
                return; // empty: touches nothing
            const auto span = t.sizes[i] - 1;
            if (t.strides[i] != 0 && span > (kMax - last) / t.strides[i])
                fail("tensor view overflows");
            last += span * t.strides[i];
        }
        if (last >= t.storage.numel)
            fail("tensor view reaches element " + std::to_string(last) + " of storage '" +
                 t.storage.key + "' of " + std::to_string(t.storage.numel) + " elements");
    }

    // ('storage', storage_type, key, location, numel[, view_metadata])
    PickleValue persistentLoad(const PickleValue &pid)
    {
        if (!m_options.allowPersistentIds)
            fail("a persistent id (a torch.save storage) in a plain pickle");
        if (!pid.is(Kind::Tuple) || pid.toList().size() < 5)
            fail("a persistent id that is not ('storage', type, key, location, numel)");
        const auto &f = pid.toList();
        if (!f[0].is(Kind::String) || f[0].toString() != "storage")
            fail("a persistent id of a kind other than 'storage'");
        if (!f[1].is(Kind::Global))
            fail("a storage type that is not a class reference");
        const auto *dtype = storageDtype(f[1].toString());
        if (!dtype)
            fail("unknown storage type " + f[1].toString());
        if (!f[2].is(Kind::String) || !f[3].is(Kind::String) || !f[4].is(Kind::Int) ||
            f[4].toInt() < 0)
            fail("a storage persistent id with a bad key, location or size");
        if (f.size() > 5 && !f[5].is(Kind::None))
            return PickleValue::skipped("a view of a legacy storage (view_metadata)");
        PickleStorage storage{.key = f[2].toString(),
                              .dtype = *dtype,
                              .numel = f[4].toInt(),
                              .location = f[3].toString()};
        const auto [it, inserted] = m_storages.emplace(storage.key, storage);
        if (!inserted && (it->second.dtype != storage.dtype || it->second.numel != storage.numel))
            fail("storage '" + storage.key + "' named twice with different types or sizes");
        return PickleValue::storage(std::move(storage));
    }

    PickleValue loop();
    void check(const PickleValue &value, int depth, std::size_t &visits,
               std::unordered_set<const void *> &reachable) const;

    // Empties every container the result does not hold: garbage (a BUILD state, a skipped
    // object's arguments) may be nested deeper than the limit or cyclic, and freeing it
    // recursively could overflow the stack. Each container is emptied while m_containers still
    // holds all of them, so no destructor recurses.
    void freeContainers(const std::unordered_set<const void *> &keep)
    {
        for (auto &value : m_containers) {
            if (keep.count(value.container()))
                continue;
            if (value.is(Kind::Dict))
                PickleValue::Items().swap(value.mutableDict());
            else
                PickleValue::List().swap(value.mutableList());
        }
        m_containers.clear();
    }

    const std::uint8_t *m_data;
    std::size_t m_size;
    std::size_t m_pos;
    std::size_t m_opStart = 0;
    std::string m_source;
    PickleOptions m_options;
    std::vector<PickleValue> m_stack;
    std::vector<std::size_t> m_marks;
    std::unordered_map<std::uint64_t, PickleValue> m_memo;
    std::vector<PickleValue> m_containers;
    std::map<std::string, PickleStorage> m_storages;
    std::size_t m_objects = 0;
};

// Depth and size of the finished tree: a cycle shows up as depth beyond the limit, a DAG that
// would explode when walked as a tree as too many visits.
void Unpickler::check(const PickleValue &value, int depth, std::size_t &visits,
                      std::unordered_set<const void *> &reachable) const
{
    if (++visits > m_options.maxObjects)
        throw InputError(m_source + ": pickle: more than " + std::to_string(m_options.maxObjects) +
                         " objects when walked as a tree");
    if (depth > m_options.maxDepth)
        throw InputError(m_source + ": pickle: nested deeper than " +
                         std::to_string(m_options.maxDepth) + " levels (or a cycle)");
    if (value.container())
        reachable.insert(value.container());
    if (value.is(Kind::List) || value.is(Kind::Tuple)) {
        for (const auto &item : value.toList())
            check(item, depth + 1, visits, reachable);
    } else if (value.is(Kind::Dict)) {
        for (const auto &[key, item] : value.toDict()) {
            check(key, depth + 1, visits, reachable);
            check(item, depth + 1, visits, reachable);
        }
    }
}

PickleValue Unpickler::loop()
{
    while (true) {
        m_opStart = m_pos;
        const auto op = *take(1);
        switch (op) {
        case 0x80: // PROTO
            if (*take(1) > 5)
                fail("pickle protocol beyond 5");
            break;
        case 0x95: // FRAME: a length hint only
            take(8);
            break;
        case '.': { // STOP
            auto value = pop();
            if (!m_stack.empty() || !m_marks.empty())
                fail("values left on the stack at STOP");
            return value;
        }
        case '(': // MARK
            if (m_marks.size() >= static_cast<std::size_t>(m_options.maxDepth) * 4)
                fail("MARKs nested too deep");
            m_marks.push_back(m_stack.size());
            break;
        case '0': // POP
            pop();
            break;
        case '1': // POP_MARK
            popMark();
            break;
        case '2': // DUP
            push(top());
            break;
        case 'N':
            push(PickleValue::none());
            break;
        case 0x88:
            push(PickleValue::fromBool(true));
            break;
        case 0x89:
            push(PickleValue::fromBool(false));
            break;
        case 'J': // BININT
            push(PickleValue::fromInt(readLe<std::int32_t>()));
            break;
        case 'K': // BININT1
            push(PickleValue::fromInt(*take(1)));
            break;
        case 'M': // BININT2
            push(PickleValue::fromInt(readLe<std::uint16_t>()));
            break;
        case 0x8a:   // LONG1
        case 0x8b: { // LONG4
            const std::uint64_t n = op == 0x8a ? *take(1) : readLe<std::uint32_t>();
            const auto bytes = readString(n);
            if (n <= 8) {
                std::uint64_t raw = 0;
                for (std::size_t i = 0; i < n; ++i)
                    raw |= std::uint64_t(static_cast<std::uint8_t>(bytes[i])) << (8 * i);
                if (n > 0 && n < 8 && (bytes[n - 1] & 0x80))
                    raw |= ~std::uint64_t(0) << (8 * n); // sign-extend
                push(PickleValue::fromInt(static_cast<std::int64_t>(raw)));
            } else {
                push(PickleValue::bigInt(bytes));
            }
            break;
        }
        case 'G': { // BINFLOAT, big-endian
            std::uint64_t bits = 0;
            const auto *p = take(8);
            for (int i = 0; i < 8; ++i)
                bits = (bits << 8) | p[i];
            push(PickleValue::fromFloat(std::bit_cast<double>(bits)));
            break;
        }
        case 'X': // BINUNICODE
            push(PickleValue::fromString(readString(readLe<std::uint32_t>())));
            break;
        case 0x8c: // SHORT_BINUNICODE
            push(PickleValue::fromString(readString(*take(1))));
            break;
        case 0x8d: // BINUNICODE8
            push(PickleValue::fromString(readString(readLe<std::uint64_t>())));
            break;
        case 'T': // BINSTRING (Python 2 str)
            push(PickleValue::fromString(readString(readLe<std::uint32_t>())));
            break;
        case 'U': // SHORT_BINSTRING
            push(PickleValue::fromString(readString(*take(1))));
            break;
        case 'B': // BINBYTES
            push(PickleValue::fromBytes(readString(readLe<std::uint32_t>())));
            break;
        case 'C': // SHORT_BINBYTES
            push(PickleValue::fromBytes(readString(*take(1))));
            break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
            push(PickleValue::fromBytes(readString(readLe<std::uint64_t>())));
            break;
        case ']':  // EMPTY_LIST
        case 0x8f: // EMPTY_SET
            push(PickleValue::newList());
            break;
        case 'l': { // LIST
            auto list = PickleValue::newList();
            append(list, popMark());
            push(std::move(list));
            break;
        }
        case 'a': { // APPEND
            auto item = pop();
            append(top(), {std::move(item)});
            break;
        }
        case 'e':    // APPENDS
        case 0x90: { // ADDITEMS
            auto items = popMark();
            append(top(), std::move(items));
            break;
        }
        case 0x91: { // FROZENSET
            auto list = PickleValue::newList();
            append(list, popMark());
            push(std::move(list));
            break;
        }
        case ')':
            push(PickleValue::newTuple({}));
            break;
        case 't':
            push(PickleValue::newTuple(popMark()));
            break;
        case 0x85:
        case 0x86:
        case 0x87: {
            const std::size_t n = op - 0x84;
            if (m_stack.size() < stackBase() + n)
                fail("stack underflow");
            PickleValue::List items(std::make_move_iterator(m_stack.end() - n),
                                    std::make_move_iterator(m_stack.end()));
            m_stack.resize(m_stack.size() - n);
            push(PickleValue::newTuple(std::move(items)));
            break;
        }
        case '}': // EMPTY_DICT
            push(PickleValue::newDict());
            break;
        case 'd': { // DICT
            auto dict = PickleValue::newDict();
            setItems(dict, popMark());
            push(std::move(dict));
            break;
        }
        case 's': { // SETITEM
            auto value = pop();
            auto key = pop();
            setItems(top(), {std::move(key), std::move(value)});
            break;
        }
        case 'u': { // SETITEMS
            auto items = popMark();
            setItems(top(), std::move(items));
            break;
        }
        case 'c': { // GLOBAL module\nname\n
            auto module = readLine();
            auto name = readLine();
            push(PickleValue::global(module + "." + name));
            break;
        }
        case 0x93: { // STACK_GLOBAL
            auto name = pop();
            auto module = pop();
            if (!module.is(Kind::String) || !name.is(Kind::String))
                fail("STACK_GLOBAL without two strings");
            push(PickleValue::global(module.toString() + "." + name.toString()));
            break;
        }
        case 'R': { // REDUCE
            auto args = pop();
            auto callable = pop();
            push(call(callable, args));
            break;
        }
        case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
            auto args = pop();
            auto cls = pop();
            if (cls.is(Kind::Global) &&
                (cls.toString() == "collections.OrderedDict" || cls.toString() == "builtins.dict"))
                push(PickleValue::newDict());
            else if (cls.is(Kind::Global) && cls.toString() == "builtins.set")
                push(PickleValue::newList());
            else
                push(PickleValue::skipped(cls.is(Kind::Global) || cls.is(Kind::Skipped)
                                              ? cls.toString()
                                              : std::string("an object made by NEWOBJ")));
            break;
        }
        case 0x92: { // NEWOBJ_EX
            pop();
            pop();
            auto cls = pop();
            push(PickleValue::skipped(cls.is(Kind::Global) ? cls.toString() : "an object"));
            break;
        }
        case 'b': { // BUILD: state for __setstate__; our values keep none
            auto state = pop();
            top();
            break;
        }
        case 'o': { // OBJ
            auto items = popMark();
            if (items.empty())
                fail("OBJ without a class");
            push(PickleValue::skipped(items[0].is(Kind::Global) ? items[0].toString()
                                                                : "an object made by OBJ"));
            break;
        }
        case 'i': { // INST module\nname\n
            auto module = readLine();
            auto name = readLine();
            popMark();
            push(PickleValue::skipped(module + "." + name));
            break;
        }
        case 'q': // BINPUT
            memoPut(*take(1));
            break;
        case 'r': // LONG_BINPUT
            memoPut(readLe<std::uint32_t>());
            break;
        case 0x94: // MEMOIZE
            memoPut(m_memo.size());
            break;
        case 'h': // BINGET
            memoGet(*take(1));
            break;
        case 'j': // LONG_BINGET
            memoGet(readLe<std::uint32_t>());
            break;
        case 'Q': { // BINPERSID
            auto pid = pop();
            push(persistentLoad(pid));
            break;
        }
        default: {
            static const char *hex = "0123456789abcdef";
            fail(std::string("unsupported opcode 0x") + hex[op >> 4] + hex[op & 15] +
                 " (only the binary protocols 2 to 5 are read)");
        }
        }
    }
}

} // namespace

PickleResult unpickle(const std::uint8_t *data, std::size_t size, std::size_t begin,
                      const std::string &source, const PickleOptions &options)
{
    if (begin >= size)
        throw InputError(source + ": no pickle data at byte " + std::to_string(begin));
    return Unpickler(data, size, begin, source, options).run();
}

PickleValue readPickleFile(const std::filesystem::path &path, const PickleOptions &options)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        throw InputError(path.string() + ": cannot read (" + ec.message() + ")");
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes(size);
    if (!in.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(size)))
        throw InputError(path.string() + ": cannot read");
    auto result = unpickle(bytes.data(), bytes.size(), 0, path.string(), options);
    if (result.end != bytes.size())
        throw InputError(path.string() + ": " + std::to_string(bytes.size() - result.end) +
                         " bytes after the pickle's STOP");
    return std::move(result.value);
}

} // namespace mp
