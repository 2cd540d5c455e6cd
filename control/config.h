#pragma once
// The startup file: a list of the same commands the socket takes, one per
// line; blank lines and '#' comments are skipped. The whole file is applied to
// a copy of the state and committed only when every line is accepted, so a
// bad line stops start-up with "<file>:<line>: <error>" and applies nothing.

#include <string>
#include <vector>

#include "control/commands.h"

namespace sipedge::ctl {

/// Lines of <path>; refuses an unreadable file or one over 64 MiB.
Result<std::vector<std::string>> read_lines(const std::string& path);
/// read_lines + Controller::apply_lines with <path> as the origin.
Status load_config_file(Controller& ctl, const std::string& path);

}  // namespace sipedge::ctl
