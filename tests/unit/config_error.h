#pragma once
// For the config tests: the message ParseConfig throws for `yaml` read as "test.yaml", or ""
// when it parses.
#include <string>

#include "common/config.h"
#include "common/error.h"

namespace clickflow::testing {

inline std::string ConfigErrorOf(const std::string& yaml) {
  try {
    ParseConfig(yaml, "test.yaml", "/base");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace clickflow::testing
