#include "control/tokens.h"

#include "control/json.h"  // utf8_valid

namespace sipedge::ctl {

namespace {

// C0 controls and DEL: never in a word (a tab only inside quotes).
bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

}  // namespace

Result<std::vector<std::string>> tokenize(std::string_view line) {
    // Checked first and not echoed: what is stored and shown is UTF-8, so
    // replies and running-config carry the words back unchanged.
    if (size_t at = 0; !utf8_valid(line, &at))
        return err(EINVAL, "ill-formed UTF-8 in command at byte " + std::to_string(at + 1));
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
        const char c = line[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        std::string w;
        if (c == '"') {
            i++;
            bool closed = false;
            while (i < line.size()) {
                const char d = line[i++];
                if (d == '"') {
                    closed = true;
                    break;
                }
                if (d == '\\') {
                    if (i >= line.size()) break;
                    const char e = line[i++];
                    switch (e) {
                    case '"': w += '"'; break;
                    case '\\': w += '\\'; break;
                    case 'r': w += '\r'; break;
                    case 'n': w += '\n'; break;
                    case 't': w += '\t'; break;
                    default: return err(EINVAL, std::string("unknown escape \\") + e + " in quoted word");
                    }
                    continue;
                }
                if (is_control(d) && d != '\t') return err(EINVAL, "control character in command");
                w += d;
            }
            if (!closed) return err(EINVAL, "unterminated quoted word");
            if (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
                return err(EINVAL, "quoted word must be followed by a space");
        } else {
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') {
                const char d = line[i++];
                if (is_control(d) || d == '"')
                    return err(EINVAL, d == '"' ? "quote inside a word" : "control character in command");
                w += d;
            }
        }
        out.push_back(std::move(w));
    }
    return out;
}

std::string quote_word(std::string_view w) {
    bool bare = !w.empty() && w[0] != '#';
    for (const char c : w)
        if (c == ' ' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) bare = false;
    if (bare) return std::string(w);
    std::string q = "\"";
    for (const char c : w) {
        switch (c) {
        case '"': q += "\\\""; break;
        case '\\': q += "\\\\"; break;
        case '\r': q += "\\r"; break;
        case '\n': q += "\\n"; break;
        case '\t': q += "\\t"; break;
        default: q += c;
        }
    }
    q += '"';
    return q;
}

bool is_blank_or_comment(std::string_view line) {
    for (const char c : line) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        return c == '#';
    }
    return true;
}

}  // namespace sipedge::ctl
