#include "app/export/bvh_reader.h"

#include "app/export/bvh_motion.h"
#include "app/export/save_file.h"
#include "ml/core/error.h"
#include "ml/motion/motion_clip.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

namespace mp {

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool equalsNoCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

struct Token {
    std::string_view text; // empty at the end of the input
    int line = 0;
};

// Whitespace tokenizer over the whole text that tracks line numbers ('\n', "\r\n" or a lone '\r').
class Scanner {
public:
    Scanner(std::string_view text, const std::string &source) : m_text(text), m_source(source) {}

    Token next()
    {
        skipSpace();
        const std::size_t start = m_pos;
        while (m_pos < m_text.size() && !isSpace(m_text[m_pos]))
            ++m_pos;
        return {m_text.substr(start, m_pos - start), m_line};
    }
    Token peek()
    {
        const std::size_t pos = m_pos;
        const int line = m_line;
        const Token t = next();
        m_pos = pos;
        m_line = line;
        return t;
    }
    // The rest of the current line (after the last token read), then moves to the next line.
    std::string_view restOfLine()
    {
        const std::size_t start = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] != '\n' && m_text[m_pos] != '\r')
            ++m_pos;
        const std::string_view rest = m_text.substr(start, m_pos - start);
        consumeNewline();
        return rest;
    }
    bool atEnd() const { return m_pos >= m_text.size(); }
    int line() const { return m_line; }

    [[noreturn]] void fail(int line, const std::string &message) const
    {
        throw InputError(m_source + ":" + std::to_string(line) + ": " + message);
    }
    [[noreturn]] void failFile(const std::string &message) const
    {
        throw InputError(m_source + ": " + message);
    }

private:
    void consumeNewline()
    {
        if (m_pos >= m_text.size())
            return;
        if (m_text[m_pos] == '\r') {
            ++m_pos;
            if (m_pos < m_text.size() && m_text[m_pos] == '\n')
                ++m_pos;
        } else {
            ++m_pos;
        }
        ++m_line;
    }
    void skipSpace()
    {
        while (m_pos < m_text.size() && isSpace(m_text[m_pos])) {
            if (m_text[m_pos] == '\n' || m_text[m_pos] == '\r')
                consumeNewline();
            else
                ++m_pos;
        }
    }

    std::string_view m_text;
    const std::string &m_source;
    std::size_t m_pos = 0;
    int m_line = 1;
};

std::string quoted(std::string_view token)
{
    return token.empty() ? std::string("end of file") : "'" + std::string(token) + "'";
}

double parseNumber(const Scanner &scanner, const Token &token, std::string_view what)
{
    std::string_view text = token.text;
    if (text.empty())
        scanner.fail(token.line, "unexpected end of file, expected " + std::string(what));
    if (text.front() == '+')
        text.remove_prefix(1);
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (end != text.data() + text.size() ||
        (error != std::errc() && error != std::errc::result_out_of_range))
        scanner.fail(token.line, "expected " + std::string(what) + ", found " + quoted(token.text));
    if (error == std::errc::result_out_of_range || !std::isfinite(value))
        scanner.fail(token.line, std::string(what) + " " + quoted(token.text) + " is not finite");
    return value;
}

std::optional<BvhChannel> channelFromName(std::string_view name)
{
    static constexpr BvhChannel kAll[] = {BvhChannel::Xposition, BvhChannel::Yposition,
                                          BvhChannel::Zposition, BvhChannel::Xrotation,
                                          BvhChannel::Yrotation, BvhChannel::Zrotation};
    for (const BvhChannel c : kAll)
        if (equalsNoCase(name, bvhChannelName(c)))
            return c;
    return std::nullopt;
}

// Limits on what a file may claim, far past any rig (SMPL 22 joints, CMU 31, game rigs a few
// hundred): a nesting this deep would overflow the stack of the recursive descent, and a joint
// count this high is a broken or hostile file, not a skeleton.
constexpr int kMaxJointDepth = 256;
constexpr int kMaxJoints = 10000;

class Parser {
public:
    Parser(std::string_view text, const std::string &source)
        : m_scan(text, source), m_textSize(text.size())
    {
    }

    BvhMotion parse()
    {
        expectKeyword("HIERARCHY");
        bool anyRoot = false;
        while (equalsNoCase(m_scan.peek().text, "ROOT")) {
            m_scan.next();
            parseJoint(-1, 1);
            anyRoot = true;
        }
        if (!anyRoot) {
            const Token t = m_scan.peek();
            m_scan.fail(t.line, "expected ROOT, found " + quoted(t.text));
        }
        parseMotion();
        return std::move(m_motion);
    }

private:
    void expectKeyword(std::string_view keyword)
    {
        const Token t = m_scan.next();
        if (!equalsNoCase(t.text, keyword))
            m_scan.fail(t.line, "expected " + std::string(keyword) + ", found " + quoted(t.text));
    }

    Vec3 parseOffset()
    {
        Vec3 offset;
        for (int k = 0; k < 3; ++k)
            offset[k] = parseNumber(m_scan, m_scan.next(), "an OFFSET value");
        return offset;
    }

    // The name is every token up to '{' or the end of the line ("Bip01 L Thigh" keeps its spaces).
    std::string parseName(int keywordLine)
    {
        std::string name;
        while (true) {
            const Token t = m_scan.peek();
            if (t.text.empty() || t.line != keywordLine || t.text == "{")
                break;
            m_scan.next();
            if (t.text.back() == '{') { // "Hips{"
                name +=
                    (name.empty() ? "" : " ") + std::string(t.text.substr(0, t.text.size() - 1));
                m_pendingBrace = true;
                break;
            }
            name += (name.empty() ? "" : " ") + std::string(t.text);
        }
        if (name.empty())
            m_scan.fail(keywordLine, "joint without a name");
        return name;
    }

    void expectOpenBrace(const std::string &what)
    {
        if (m_pendingBrace) {
            m_pendingBrace = false;
            return;
        }
        const Token t = m_scan.next();
        if (t.text != "{")
            m_scan.fail(t.line, "expected '{' after " + what + ", found " + quoted(t.text));
    }

    void parseJoint(int parent, int depth)
    {
        const int keywordLine = m_scan.line();
        if (depth > kMaxJointDepth)
            m_scan.fail(keywordLine, "joints nested deeper than " +
                                         std::to_string(kMaxJointDepth) + " levels");
        const int index = static_cast<int>(m_motion.joints.size());
        if (index >= kMaxJoints)
            m_scan.fail(keywordLine, "more than " + std::to_string(kMaxJoints) + " joints");
        m_motion.joints.push_back({});
        m_motion.joints[index].parent = parent;
        m_motion.joints[index].name = parseName(keywordLine);
        const std::string label = "joint '" + m_motion.joints[index].name + "'";
        expectOpenBrace(label);
        bool haveOffset = false, haveChannels = false;
        while (true) {
            const Token t = m_scan.next();
            if (t.text.empty())
                m_scan.fail(t.line, "unexpected end of file inside " + label + " (opened on line " +
                                        std::to_string(keywordLine) + "): missing '}'");
            if (t.text == "}")
                break;
            if (equalsNoCase(t.text, "OFFSET")) {
                if (haveOffset)
                    m_scan.fail(t.line, "second OFFSET in " + label);
                m_motion.joints[index].offset = parseOffset();
                haveOffset = true;
            } else if (equalsNoCase(t.text, "CHANNELS")) {
                if (haveChannels)
                    m_scan.fail(t.line, "second CHANNELS in " + label);
                parseChannels(index, t.line);
                haveChannels = true;
            } else if (equalsNoCase(t.text, "JOINT")) {
                parseJoint(index, depth + 1);
            } else if (equalsNoCase(t.text, "End")) {
                parseEndSite(index, t.line);
            } else if (equalsNoCase(t.text, "MOTION") || equalsNoCase(t.text, "ROOT")) {
                m_scan.fail(t.line, "found " + quoted(t.text) + " inside " + label +
                                        " (opened on line " + std::to_string(keywordLine) +
                                        "): missing '}'");
            } else {
                m_scan.fail(t.line, "unexpected " + quoted(t.text) + " in " + label);
            }
        }
        if (!haveOffset)
            m_scan.fail(keywordLine, label + " has no OFFSET");
    }

    void parseChannels(int joint, int line)
    {
        const Token countToken = m_scan.next();
        const double count = parseNumber(m_scan, countToken, "a channel count");
        if (count < 0 || count > 6 || count != std::floor(count))
            m_scan.fail(countToken.line,
                        "channel count must be 0 to 6, found " + quoted(countToken.text));
        BvhJoint &j = m_motion.joints[joint];
        j.firstChannel = m_motion.numChannels;
        for (int c = 0; c < static_cast<int>(count); ++c) {
            const Token t = m_scan.next();
            if (t.text.empty())
                m_scan.fail(t.line,
                            "unexpected end of file in CHANNELS of line " + std::to_string(line));
            const auto channel = channelFromName(t.text);
            if (!channel)
                m_scan.fail(t.line, "unknown channel name " + quoted(t.text) + " in joint '" +
                                        j.name + "' (expected Xposition ... Zrotation)");
            for (const BvhChannel existing : j.channels)
                if (existing == *channel)
                    m_scan.fail(t.line, "channel " + quoted(t.text) + " listed twice in joint '" +
                                            j.name + "'");
            j.channels.push_back(*channel);
        }
        m_motion.numChannels += static_cast<int>(count);
    }

    void parseEndSite(int joint, int line)
    {
        const Token site = m_scan.next();
        if (!equalsNoCase(site.text, "Site"))
            m_scan.fail(site.line, "expected 'Site' after 'End', found " + quoted(site.text));
        const Token open = m_scan.next();
        if (open.text != "{")
            m_scan.fail(open.line, "expected '{' after End Site, found " + quoted(open.text));
        BvhJoint &j = m_motion.joints[joint];
        if (j.hasEndSite)
            m_scan.fail(line, "second End Site in joint '" + j.name + "'");
        expectKeyword("OFFSET");
        j.endSiteOffset = parseOffset();
        j.hasEndSite = true;
        const Token close = m_scan.next();
        if (close.text != "}")
            m_scan.fail(close.line, "expected '}' closing the End Site of line " +
                                        std::to_string(line) + ", found " + quoted(close.text));
    }

    void parseMotion()
    {
        expectKeyword("MOTION");
        // "Frames: N" (also "Frames : N").
        Token t = m_scan.next();
        if (equalsNoCase(t.text, "Frames")) {
            expectColon();
        } else if (!equalsNoCase(t.text, "Frames:")) {
            m_scan.fail(t.line, "expected 'Frames:', found " + quoted(t.text));
        }
        const Token framesToken = m_scan.next();
        const int framesLine = framesToken.line;
        const double frames = parseNumber(m_scan, framesToken, "a frame count");
        if (frames < 0 || frames != std::floor(frames) || frames > 1e8)
            m_scan.fail(framesToken.line, "bad frame count " + quoted(framesToken.text));
        m_motion.numFrames = static_cast<int>(frames);

        // "Frame Time: dt".
        expectKeyword("Frame");
        t = m_scan.next();
        if (equalsNoCase(t.text, "Time")) {
            expectColon();
        } else if (!equalsNoCase(t.text, "Time:")) {
            m_scan.fail(t.line, "expected 'Frame Time:', found " + quoted(t.text));
        }
        const Token dtToken = m_scan.next();
        const double dt = parseNumber(m_scan, dtToken, "a frame time");
        if (dt <= 0 && m_motion.numFrames > 1)
            m_scan.fail(dtToken.line, "Frame Time must be positive, found " + quoted(dtToken.text));
        m_motion.frameTimeS = dt > 0 ? dt : 1.0 / 30.0;
        const std::string_view trailing = m_scan.restOfLine();
        for (const char c : trailing)
            if (!isSpace(c))
                m_scan.fail(dtToken.line, "unexpected text after the Frame Time");

        parseFrames(framesLine);
    }

    void expectColon()
    {
        const Token colon = m_scan.next();
        if (colon.text != ":")
            m_scan.fail(colon.line, "expected ':', found " + quoted(colon.text));
    }

    void parseFrames(int framesLine)
    {
        const int width = m_motion.numChannels;
        // Every value takes at least two bytes of text: room for no more than the file holds,
        // whatever 'Frames:' claims (a truncated file fails below, naming the line).
        m_motion.values.reserve(std::min(static_cast<std::size_t>(m_motion.numFrames) * width,
                                         m_textSize / 2 + 1));
        int frame = 0;
        while (!m_scan.atEnd()) {
            const int line = m_scan.line();
            const std::string_view text = m_scan.restOfLine();
            int count = 0;
            std::size_t pos = 0;
            while (true) {
                while (pos < text.size() && isSpace(text[pos]))
                    ++pos;
                if (pos >= text.size())
                    break;
                const std::size_t start = pos;
                while (pos < text.size() && !isSpace(text[pos]))
                    ++pos;
                if (count == 0 && frame >= m_motion.numFrames)
                    m_scan.fail(line, "more motion lines than 'Frames: " +
                                          std::to_string(m_motion.numFrames) + "' (line " +
                                          std::to_string(framesLine) + ") announces");
                ++count;
                if (count <= width)
                    m_motion.values.push_back(parseNumber(
                        m_scan, {text.substr(start, pos - start), line}, "a channel value"));
            }
            if (count == 0)
                continue; // blank line
            if (count != width)
                m_scan.fail(line,
                            "expected " + std::to_string(width) + " values on motion line " +
                                std::to_string(frame + 1) + ", found " + std::to_string(count) +
                                (m_scan.atEnd() && count < width ? " (file truncated?)" : ""));
            ++frame;
        }
        if (frame < m_motion.numFrames && width > 0)
            m_scan.failFile("truncated: 'Frames: " + std::to_string(m_motion.numFrames) +
                            "' (line " + std::to_string(framesLine) + ") but only " +
                            std::to_string(frame) + " motion lines, ending at line " +
                            std::to_string(m_scan.line()));
        if (width == 0)
            m_motion.values.clear();
    }

    Scanner m_scan;
    std::size_t m_textSize = 0;
    BvhMotion m_motion;
    bool m_pendingBrace = false;
};

} // namespace

BvhMotion parseBvh(std::string_view text, const std::string &sourceName)
{
    if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
        static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF)
        text.remove_prefix(3); // UTF-8 byte order mark
    return Parser(text, sourceName).parse();
}

BvhMotion readBvh(const std::filesystem::path &path)
{
    return parseBvh(readWholeFile(path), path.string());
}

MotionClip readBvhClip(const std::filesystem::path &path)
{
    return bvhToMotionClip(readBvh(path));
}

MotionClip readBvhClip(const std::filesystem::path &path, const BvhToClipOptions &options)
{
    return bvhToMotionClip(readBvh(path), options);
}

} // namespace mp
