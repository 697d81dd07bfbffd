#pragma once
// Test stacks take their ports the way `clickflow temp-config` does (src/stack/free_ports.h).
#include "stack/free_ports.h"

namespace clickflow::testing {

using clickflow::UseFreePorts;

}  // namespace clickflow::testing
