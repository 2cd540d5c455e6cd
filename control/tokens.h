#pragma once
// Splitting one command line into words, and writing words back so that the
// split gives them again: whitespace separates words; a word in double quotes
// may hold spaces and the escapes \" \\ \r \n \t. Used by the socket, the
// startup file, the secrets file, show running-config and sipedgectl.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sipedge::ctl {

/// Words of <line>. Rejects ill-formed UTF-8 anywhere in the line (the
/// error gives the byte offset, not the bytes), an unterminated quote, an
/// unknown escape, and control characters (C0, DEL) other than a tab inside
/// quotes, so a stored word never needs replacing in a reply.
Result<std::vector<std::string>> tokenize(std::string_view line);
/// <w> as one word: bare when it needs no quoting, else quoted and escaped.
std::string quote_word(std::string_view w);
/// Whether <line> is blank or a '#' comment (startup and secrets files).
bool is_blank_or_comment(std::string_view line);

}  // namespace sipedge::ctl
