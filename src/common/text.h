#pragma once
// Small string helpers more than one layer needs.
#include <string>
#include <string_view>

namespace clickflow {

// `text` without leading and trailing spaces, tabs, carriage returns and newlines.
std::string Trim(std::string_view text);

}  // namespace clickflow
