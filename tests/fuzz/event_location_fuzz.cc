// libFuzzer target: one location_events JSON line (see event_fuzz.h).
#include "event_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return clickflow::fuzz::FuzzEventLine("location_events", data, size);
}
