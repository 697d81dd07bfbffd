// libFuzzer target: one device_events JSON line (see event_fuzz.h).
#include "event_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return clickflow::fuzz::FuzzEventLine("device_events", data, size);
}
