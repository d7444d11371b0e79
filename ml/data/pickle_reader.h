#pragma once
// A restricted unpickler: reads what Python's pickle.dump (protocols 2 to 5) and torch.save write
// into a PickleValue tree, without running anything. It knows a short list of globals by name:
// torch's tensor rebuild functions (_rebuild_tensor, _v2, _v3, _rebuild_parameter,
// _rebuild_parameter_with_state, _rebuild_from_type_v2 for plain tensors), the storage types
// (torch.FloatStorage ... torch.UntypedStorage), collections.OrderedDict, builtins.set /
// frozenset / bytearray, _codecs.encode (protocol 2's bytes), torch.Size and torch.device.
// Any other class becomes a Skipped placeholder naming it (findSkipped lists them).
//
// A malicious or broken file gives an InputError naming the source and the byte offset: the
// tree's depth, the number of objects and every length are bounded, memo indices are looked up,
// never used to size anything, and a tensor's view must lie inside its storage.

#include "ml/data/pickle_value.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace mp {

struct PickleOptions {
    int maxDepth = 64;                 // nesting of containers (a cycle counts as too deep)
    std::size_t maxObjects = 1u << 24; // values pushed in all
    bool allowPersistentIds = false;   // torch.save's storages; a plain pickle has none
};

struct PickleResult {
    PickleValue value;
    std::size_t end = 0; // the byte after STOP: legacy torch.save files hold several pickles
    // Every storage a persistent id named, by key, also those inside skipped objects.
    std::map<std::string, PickleStorage> storages;
};

// Unpickles one pickle starting at data[begin]. source names the input in errors.
PickleResult unpickle(const std::uint8_t *data, std::size_t size, std::size_t begin,
                      const std::string &source, const PickleOptions &options = {});

// A whole file holding one plain pickle (e.g. the T2M evaluator's our_vab_words.pkl, a list of
// str, and our_vab_idx.pkl, a dict str -> int).
PickleValue readPickleFile(const std::filesystem::path &path, const PickleOptions &options = {});

} // namespace mp
