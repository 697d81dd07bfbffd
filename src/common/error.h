#pragma once
// One error model for clickflow: library code throws clickflow::Error for failures that end a
// request or a command; main() prints the message and exits non-zero. Expected, recoverable
// outcomes (a port in use, a row that fails validation) are return values, not exceptions.
#include <stdexcept>
#include <string>

namespace clickflow {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace clickflow
