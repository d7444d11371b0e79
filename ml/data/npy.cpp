#include "ml/data/npy.h"

#include "ml/core/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace mp::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// NumPy aligns the data to 64 bytes so that memory-mapped arrays are aligned for any dtype.
constexpr std::size_t kAlignment = 64;

[[noreturn]] void fail(const std::string &name, const std::string &what)
{
    throw InputError(name + ": " + what);
}

struct DType {
    at::ScalarType type;
    std::size_t itemSize;
    bool bigEndian;
};

DType parseDescr(const std::string &descr, const std::string &name)
{
    if (descr.size() < 3)
        fail(name, "unsupported dtype '" + descr + "'");
    const char order = descr[0];
    const std::string code = descr.substr(1);
    if (order != '<' && order != '>' && order != '|' && order != '=')
        fail(name, "unsupported dtype '" + descr + "'");
    struct Known {
        const char *code;
        at::ScalarType type;
        std::size_t size;
    };
    static const Known known[] = {
        {"f2", at::kHalf, 2}, {"f4", at::kFloat, 4}, {"f8", at::kDouble, 8},
        {"i1", at::kChar, 1}, {"i2", at::kShort, 2}, {"i4", at::kInt, 4},
        {"i8", at::kLong, 8}, {"u1", at::kByte, 1},  {"b1", at::kBool, 1},
    };
    for (const auto &k : known)
        if (code == k.code)
            return {k.type, k.size,
                    order == '>' || (order == '=' && std::endian::native == std::endian::big)};
    fail(name, "unsupported dtype '" + descr +
                   "' (supported: float16/32/64, int8/16/32/64, uint8, bool)");
}

std::string descrFor(at::ScalarType type, bool bigEndian)
{
    const char order = bigEndian ? '>' : '<';
    switch (type) {
    case at::kHalf:
        return std::string(1, order) + "f2";
    case at::kFloat:
        return std::string(1, order) + "f4";
    case at::kDouble:
        return std::string(1, order) + "f8";
    case at::kChar:
        return "|i1";
    case at::kShort:
        return std::string(1, order) + "i2";
    case at::kInt:
        return std::string(1, order) + "i4";
    case at::kLong:
        return std::string(1, order) + "i8";
    case at::kByte:
        return "|u1";
    case at::kBool:
        return "|b1";
    default:
        throw std::runtime_error(std::string("npy: cannot write dtype ") + c10::toString(type));
    }
}

// A tiny reader of the Python dict literal NumPy writes as the header.
class HeaderParser {
public:
    HeaderParser(std::string_view text, const std::string &name) : m_text(text), m_name(name) {}

    std::string stringValue(const char *key)
    {
        seekKey(key);
        skipSpace();
        if (m_pos >= m_text.size() || (m_text[m_pos] != '\'' && m_text[m_pos] != '"'))
            bad(std::string("'") + key + "' is not a string");
        const char quote = m_text[m_pos++];
        const auto end = m_text.find(quote, m_pos);
        if (end == std::string_view::npos)
            bad("unterminated string");
        return std::string(m_text.substr(m_pos, end - m_pos));
    }

    bool boolValue(const char *key)
    {
        seekKey(key);
        skipSpace();
        if (m_text.substr(m_pos, 4) == "True")
            return true;
        if (m_text.substr(m_pos, 5) == "False")
            return false;
        bad(std::string("'") + key + "' is not True or False");
    }

    std::vector<int64_t> tupleValue(const char *key)
    {
        seekKey(key);
        skipSpace();
        if (m_pos >= m_text.size() || m_text[m_pos] != '(')
            bad(std::string("'") + key + "' is not a tuple");
        ++m_pos;
        std::vector<int64_t> values;
        for (;;) {
            skipSpace();
            if (m_pos >= m_text.size())
                bad("unterminated shape");
            if (m_text[m_pos] == ')')
                break;
            if (!std::isdigit(static_cast<unsigned char>(m_text[m_pos])))
                bad("bad shape entry");
            int64_t value = 0;
            while (m_pos < m_text.size() &&
                   std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
                if (value > (std::numeric_limits<int64_t>::max() - 9) / 10)
                    bad("shape entry too large");
                value = value * 10 + (m_text[m_pos++] - '0');
            }
            // Python longs may carry an L suffix in files written by Python 2.
            if (m_pos < m_text.size() && m_text[m_pos] == 'L')
                ++m_pos;
            values.push_back(value);
            skipSpace();
            if (m_pos < m_text.size() && m_text[m_pos] == ',')
                ++m_pos;
        }
        return values;
    }

private:
    void seekKey(const char *key)
    {
        for (const char quote : {'\'', '"'}) {
            const std::string quoted = std::string(1, quote) + key + quote;
            const auto at = m_text.find(quoted);
            if (at != std::string_view::npos) {
                m_pos = at + quoted.size();
                skipSpace();
                if (m_pos >= m_text.size() || m_text[m_pos] != ':')
                    bad(std::string("no ':' after '") + key + "'");
                ++m_pos;
                return;
            }
        }
        bad(std::string("no '") + key + "' key");
    }
    void skipSpace()
    {
        while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos])))
            ++m_pos;
    }
    [[noreturn]] void bad(const std::string &what) const
    {
        fail(m_name, "bad .npy header: " + what);
    }

    std::string_view m_text;
    const std::string &m_name;
    std::size_t m_pos = 0;
};

uint32_t readLittle(std::string_view bytes, std::size_t at, std::size_t size)
{
    uint32_t value = 0;
    for (std::size_t i = 0; i < size; ++i)
        value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    return value;
}

Header parseHeader(std::string_view bytes, const std::string &name)
{
    if (bytes.size() < kMagicSize + 2 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
        fail(name, "not a .npy file (bad magic)");
    Header header;
    header.majorVersion = static_cast<unsigned char>(bytes[6]);
    std::size_t lengthSize = 0;
    switch (header.majorVersion) {
    case 1:
        lengthSize = 2;
        break;
    case 2:
    case 3:
        lengthSize = 4;
        break;
    default:
        fail(name, "unsupported .npy version " + std::to_string(header.majorVersion) + "." +
                       std::to_string(static_cast<unsigned char>(bytes[7])));
    }
    const std::size_t prefix = kMagicSize + 2 + lengthSize;
    if (bytes.size() < prefix)
        fail(name, "truncated .npy header");
    const std::size_t headerLength = readLittle(bytes, kMagicSize + 2, lengthSize);
    if (bytes.size() < prefix + headerLength)
        fail(name, "truncated .npy header: " + std::to_string(headerLength) + " bytes announced, " +
                       std::to_string(bytes.size() - prefix) + " present");
    HeaderParser parser(bytes.substr(prefix, headerLength), name);
    header.descr = parser.stringValue("descr");
    header.fortranOrder = parser.boolValue("fortran_order");
    header.shape = parser.tupleValue("shape");
    header.dataOffset = prefix + headerLength;
    return header;
}

std::string shapeText(const std::vector<int64_t> &shape)
{
    std::ostringstream out;
    out << '(';
    for (std::size_t i = 0; i < shape.size(); ++i)
        out << (i ? "," : "") << shape[i];
    out << ')';
    return out.str();
}

void swapBytes(char *data, std::size_t count, std::size_t itemSize)
{
    for (std::size_t i = 0; i < count; ++i)
        std::reverse(data + i * itemSize, data + (i + 1) * itemSize);
}

std::string readFile(const std::filesystem::path &path, std::size_t limit)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(path.string(), "cannot open for reading");
    std::string bytes;
    if (limit == std::numeric_limits<std::size_t>::max()) {
        std::ostringstream buffer;
        buffer << in.rdbuf();
        bytes = buffer.str();
    } else {
        // A header may announce up to 4 GiB: never ask for more than the file holds.
        std::error_code error;
        const auto fileSize = std::filesystem::file_size(path, error);
        if (!error)
            limit = std::min<std::uintmax_t>(limit, fileSize);
        bytes.resize(limit);
        in.read(bytes.data(), static_cast<std::streamsize>(limit));
        bytes.resize(static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad())
        fail(path.string(), "read error");
    return bytes;
}

} // namespace

Header readHeader(const std::filesystem::path &path)
{
    // Version 1 headers are at most 64 KiB; read more only for the rare 2.0/3.0 header.
    auto bytes = readFile(path, 65536 + 16);
    if (bytes.size() >= 12 && (bytes[6] == 2 || bytes[6] == 3)) {
        const std::size_t need = 12 + readLittle(bytes, 8, 4);
        if (need > bytes.size())
            bytes = readFile(path, need);
    }
    return parseHeader(bytes, path.string());
}

at::Tensor fromBytes(std::string_view bytes, const std::string &name)
{
    const Header header = parseHeader(bytes, name);
    const DType dtype = parseDescr(header.descr, name);
    uint64_t count = 1;
    for (const int64_t dim : header.shape) {
        if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 16 / dim)
            fail(name, "shape " + shapeText(header.shape) + " is too large");
        count *= static_cast<uint64_t>(dim);
    }
    const uint64_t needed = count * dtype.itemSize;
    const uint64_t present = bytes.size() - header.dataOffset;
    if (present < needed)
        fail(name, "truncated: shape " + shapeText(header.shape) + " of " + header.descr +
                       " needs " + std::to_string(needed) + " data bytes, the file has " +
                       std::to_string(present));
    // Fortran order is C order of the reversed shape, transposed back.
    std::vector<int64_t> storedShape = header.shape;
    if (header.fortranOrder)
        std::reverse(storedShape.begin(), storedShape.end());
    auto tensor = torch::empty(storedShape, torch::TensorOptions().dtype(dtype.type));
    if (needed > 0) {
        auto *data = static_cast<char *>(tensor.data_ptr());
        std::memcpy(data, bytes.data() + header.dataOffset, needed);
        if (dtype.itemSize > 1 && dtype.bigEndian != (std::endian::native == std::endian::big))
            swapBytes(data, count, dtype.itemSize);
    }
    if (dtype.type == at::kBool) {
        // Only 0 and 1 are valid bools; anything else would be undefined behaviour later.
        if (needed > 0 && tensor.view(at::kByte).gt(1).any().item<bool>())
            fail(name, "bool array holds values other than 0 and 1");
    }
    if (header.fortranOrder && storedShape.size() > 1) {
        std::vector<int64_t> order(storedShape.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = static_cast<int64_t>(order.size() - 1 - i);
        tensor = tensor.permute(order).contiguous();
    }
    return tensor;
}

at::Tensor read(const std::filesystem::path &path)
{
    const auto bytes = readFile(path, std::numeric_limits<std::size_t>::max());
    return fromBytes(bytes, path.string());
}

std::string toBytes(const at::Tensor &input, const WriteOptions &options)
{
    if (options.version < 0 || options.version > 3)
        throw std::runtime_error("npy: version must be 0 (auto), 1, 2 or 3");
    auto tensor = input.detach().to(torch::kCPU);
    const std::string descr = descrFor(tensor.scalar_type(), options.bigEndian);
    std::ostringstream dict;
    dict << "{'descr': '" << descr
         << "', 'fortran_order': " << (options.fortranOrder ? "True" : "False") << ", 'shape': (";
    for (int64_t i = 0; i < tensor.dim(); ++i)
        dict << (i ? ", " : "") << tensor.size(i);
    dict << (tensor.dim() == 1 ? ",), }" : "), }");
    std::string text = dict.str();

    int version = options.version;
    const auto paddedLength = [&](std::size_t lengthSize) {
        const std::size_t unpadded = kMagicSize + 2 + lengthSize + text.size() + 1;
        return text.size() + 1 + (kAlignment - unpadded % kAlignment) % kAlignment;
    };
    if (version == 0)
        version = paddedLength(2) <= 65535 ? 1 : 2;
    const std::size_t lengthSize = version == 1 ? 2 : 4;
    const std::size_t headerLength = paddedLength(lengthSize);
    if (version == 1 && headerLength > 65535)
        throw std::runtime_error("npy: header too long for version 1.0");
    text.append(headerLength - text.size() - 1, ' ');
    text.push_back('\n');

    if (options.fortranOrder && tensor.dim() > 1) {
        std::vector<int64_t> order(tensor.dim());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = static_cast<int64_t>(order.size() - 1 - i);
        tensor = tensor.permute(order);
    }
    tensor = tensor.contiguous();
    const std::size_t dataBytes = tensor.numel() * tensor.element_size();

    std::string out;
    out.reserve(kMagicSize + 2 + lengthSize + text.size() + dataBytes);
    out.append(kMagic, kMagicSize);
    out.push_back(static_cast<char>(version));
    out.push_back(0);
    for (std::size_t i = 0; i < lengthSize; ++i)
        out.push_back(static_cast<char>((headerLength >> (8 * i)) & 0xff));
    out += text;
    const std::size_t dataStart = out.size();
    out.append(static_cast<const char *>(tensor.data_ptr()), dataBytes);
    const std::size_t itemSize = tensor.element_size();
    if (itemSize > 1 && options.bigEndian != (std::endian::native == std::endian::big))
        swapBytes(out.data() + dataStart, tensor.numel(), itemSize);
    return out;
}

void write(const std::filesystem::path &path, const at::Tensor &tensor, const WriteOptions &options)
{
    const std::string bytes = toBytes(tensor, options);
    auto temporary = path;
    temporary += ".part";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out)
            fail(path.string(), "cannot open for writing");
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            fail(path.string(), "write failed (disk full?)");
        }
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        std::filesystem::remove(temporary, error);
        fail(path.string(), "cannot replace the file: " + error.message());
    }
}

} // namespace mp::npy
