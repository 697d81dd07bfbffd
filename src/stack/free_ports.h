#pragma once
// Every listener of a stack on a free loopback port, so the stacks of the tests, the soak and the
// benchmarks never meet each other or a stack on the default ports. The one place that knows
// which settings are ports: a new port key goes here (`clickflow temp-config` and the test
// fixtures both use it).
#include "common/config.h"

namespace clickflow {

// Sets Kafka's and ClickHouse's addresses and every stack.*_port to distinct free ports of
// 127.0.0.1 (free when picked: a port can be taken before the stack binds it).
void UseFreePorts(Config& config);

}  // namespace clickflow
