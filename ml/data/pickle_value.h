#pragma once
// The tree a pickle leaves behind, as far as the project's restricted unpickler
// (pickle_reader.h) builds it: None, bools, ints, floats, strings, bytes, lists, tuples, dicts
// (in insertion order, keys of any kind) and references to tensors in a checkpoint's storages.
// Nothing is ever executed: an object of a class the reader does not know (an OmegaConf
// DictConfig, a NumPy scalar, a Lightning AttributeDict) becomes a Skipped placeholder naming the
// class, and a bare class or function reference stays a Global naming it.

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mp {

// A storage as torch.save's persistent id names it: ('storage', torch.FloatStorage, key,
// location, numel). The bytes stay in the file until a tensor is asked for.
struct PickleStorage {
    std::string key;
    at::ScalarType dtype = at::kFloat;
    std::int64_t numel = 0; // elements of dtype
    std::string location;   // "cpu", "cuda:0": ignored, everything loads on the CPU
};

// A tensor as torch._utils._rebuild_tensor_v2 describes it: a strided view of a storage,
// already checked to lie inside it.
struct PickleTensor {
    PickleStorage storage;
    std::int64_t storageOffset = 0; // elements
    std::vector<std::int64_t> sizes;
    std::vector<std::int64_t> strides;
    bool requiresGrad = false;
};

class PickleValue {
public:
    enum class Kind {
        None,
        Bool,
        Int,
        BigInt, // an int beyond 64 bits, kept as pickle's little-endian two's complement bytes
        Float,
        String,
        Bytes,
        List, // also sets and frozensets
        Tuple,
        Dict, // also collections.OrderedDict
        Tensor,
        Storage, // a bare storage (a persistent id outside a tensor)
        Global,  // a reference to a class or function, by name ("torch.FloatStorage")
        Skipped, // an object the reader does not build, by class name
    };
    using List = std::vector<PickleValue>;
    using Items = std::vector<std::pair<PickleValue, PickleValue>>;

    PickleValue() = default;
    static PickleValue none() { return {}; }
    static PickleValue fromBool(bool value);
    static PickleValue fromInt(std::int64_t value);
    static PickleValue fromFloat(double value);
    static PickleValue fromString(std::string value);
    static PickleValue fromBytes(std::string value);
    static PickleValue bigInt(std::string littleEndianBytes);
    static PickleValue newList();
    static PickleValue newTuple(List items);
    static PickleValue newDict();
    static PickleValue tensor(PickleTensor tensor);
    static PickleValue storage(PickleStorage storage);
    static PickleValue global(std::string name);
    static PickleValue skipped(std::string what);

    Kind kind() const { return m_kind; }
    bool is(Kind kind) const { return m_kind == kind; }
    static const char *kindName(Kind kind);

    // Accessors throw InputError ("expected a dict, found a list") on the wrong kind; callers add
    // the file and the path.
    bool toBool() const;
    std::int64_t toInt() const;
    double toFloat() const; // also an Int
    const std::string &
    toString() const;           // String, Bytes, BigInt's bytes, a Global's or Skipped's name
    const List &toList() const; // List or Tuple
    const Items &toDict() const;
    const PickleTensor &toTensor() const;
    const PickleStorage &toStorage() const;

    // The value under a string key of a Dict, or nullptr (also when this is not a Dict).
    const PickleValue *find(std::string_view key) const;

    // Mutators the unpickler uses while it builds containers (mutableList also frees a tuple's
    // items when the unpickler breaks cycles).
    List &mutableList();
    Items &mutableDict();
    // The shared container behind a List, Tuple or Dict (nullptr for other kinds): values copied
    // from one memo entry share it.
    const void *container() const;

private:
    using Payload =
        std::variant<std::monostate, bool, std::int64_t, double, std::string, std::shared_ptr<List>,
                     std::shared_ptr<Items>, std::shared_ptr<const PickleTensor>,
                     std::shared_ptr<const PickleStorage>>;
    PickleValue(Kind kind, Payload payload) : m_kind(kind), m_payload(std::move(payload)) {}

    Kind m_kind = Kind::None;
    Payload m_payload;
};

// An object the reader left out, where it sat in the tree: "hyper_parameters/cfg" (dict keys
// and list indices joined by '/'), and what it was ("omegaconf.dictconfig.DictConfig").
struct SkippedObject {
    std::string path;
    std::string what;
};

// Every Skipped placeholder and Global reference under root, in tree order.
std::vector<SkippedObject> findSkipped(const PickleValue &root);

// The value at a '/'-separated path of dict keys and list indices ("" is root), or nullptr.
const PickleValue *findPath(const PickleValue &root, std::string_view path);

} // namespace mp
