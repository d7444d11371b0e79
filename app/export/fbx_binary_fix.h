#pragma once
// Binary FBX node records: a structural checker and the repair for Assimp 5.2.x's binary export,
// which never writes the null record that must close every nested node list (assimp #4686, fixed
// in 5.3.0): Blender then stops with "failed to read nested block sentinel". The repair re-reads
// the records by their end offsets and writes them again with the sentinels and new offsets.
//
// Layout (FBX 7.x): 27-byte header "Kaydara FBX Binary  \0\x1a\0" + uint32 version; then node
// records {endOffset, numProperties, propertyListLen, nameLen:u8, name, properties, children,
// null record if there are children}; the fields are uint64 and the null record 25 zero bytes
// from version 7500 on, uint32 and 13 bytes before; a null record ends the top-level list too.

#include <cstdint>
#include <string>
#include <string_view>

namespace mp {

struct FbxBinaryCheck {
    bool valid = false;
    std::string problem;       // first problem found, with its byte offset; empty when valid
    std::uint32_t version = 0; // e.g. 7500
    int numNodes = 0;          // all records, nested included
    int numNestedLists = 0;    // records with children (each closed by a null record)
    int maxDepth = 0;
};

// Strict check: header, every end offset inside its parent and consistent with the bytes, every
// property's type code and length, a null record after every nested list and after the top level.
FbxBinaryCheck checkFbxBinary(std::string_view bytes);

// The same file with the missing nested-list and top-level null records added and the end
// offsets recomputed (also on childless records where the FBX SDK writes one: no properties, an
// AnimationStack or AnimationLayer). Idempotent: a repaired file comes back unchanged.
// std::runtime_error when the records cannot be followed.
std::string addFbxNullRecords(std::string_view bytes);

} // namespace mp
